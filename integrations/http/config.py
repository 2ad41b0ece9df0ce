"""The client's tunables, read from settings at call time (tests override them with ``settings`` fixtures).
Defaults live here so the client works with a settings module that predates them; shelfops/settings.py exposes
each as an environment variable."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

DEFAULTS = {
    "HTTP_CONNECT_TIMEOUT": 5.0,  # seconds to open a connection
    "HTTP_READ_TIMEOUT": 60.0,  # seconds between bytes of the answer
    "HTTP_MAX_ATTEMPTS": 5,  # attempts per call, first one included
    "HTTP_BACKOFF_BASE_SECONDS": 0.5,  # full-jitter exponential backoff: random(0, base * 2**n) ...
    "HTTP_BACKOFF_MAX_SECONDS": 30.0,  # ... capped here
    "HTTP_MAX_RETRY_AFTER_SECONDS": 120.0,  # a longer Retry-After is not slept on: the caller gets the error
    "HTTP_MAX_BUDGET_WAIT_SECONDS": 60.0,  # waiting longer than this for the shared budget raises instead
    "HTTP_BUDGET_HEADROOM_SECONDS": 0.1,  # keep rate x this unspent: absorbs jitter between hosts' clocks
    "HTTP_REACTIVE_SLOW_SECONDS": 300.0,  # after a 429, a reactive account is paced for this long
    "HTTP_BREAKER_FAILURES": 5,  # failures (5xx, timeouts, connection errors) ...
    "HTTP_BREAKER_WINDOW_SECONDS": 60.0,  # ... within this window open the breaker
    "HTTP_BREAKER_FAILURE_RATE": 0.5,  # ... and make up at least this share of the calls counted there
    "HTTP_BREAKER_COOLDOWN_SECONDS": 30.0,  # open this long, then one probe goes through
    "HTTP_POOL_MAXSIZE": 32,  # pooled connections per host per process
    "OAUTH_REFRESH_MARGIN_SECONDS": 300,  # a token expiring within this is refreshed before the call
}


@dataclass(frozen=True)
class ClientConfig:
    connect_timeout: float
    read_timeout: float
    max_attempts: int
    backoff_base: float
    backoff_max: float
    max_retry_after: float
    max_budget_wait: float
    headroom_seconds: float
    reactive_slow_seconds: float
    breaker_failures: int
    breaker_window: float
    breaker_failure_rate: float
    breaker_cooldown: float
    refresh_margin: float

    @property
    def probe_timeout(self) -> float:
        # A half-open probe that has not reported back after a full request time is presumed dead.
        return self.connect_timeout + self.read_timeout + 5.0


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def load() -> ClientConfig:
    return ClientConfig(
        connect_timeout=float(setting("HTTP_CONNECT_TIMEOUT")),
        read_timeout=float(setting("HTTP_READ_TIMEOUT")),
        max_attempts=int(setting("HTTP_MAX_ATTEMPTS")),
        backoff_base=float(setting("HTTP_BACKOFF_BASE_SECONDS")),
        backoff_max=float(setting("HTTP_BACKOFF_MAX_SECONDS")),
        max_retry_after=float(setting("HTTP_MAX_RETRY_AFTER_SECONDS")),
        max_budget_wait=float(setting("HTTP_MAX_BUDGET_WAIT_SECONDS")),
        headroom_seconds=float(setting("HTTP_BUDGET_HEADROOM_SECONDS")),
        reactive_slow_seconds=float(setting("HTTP_REACTIVE_SLOW_SECONDS")),
        breaker_failures=int(setting("HTTP_BREAKER_FAILURES")),
        breaker_window=float(setting("HTTP_BREAKER_WINDOW_SECONDS")),
        breaker_failure_rate=float(setting("HTTP_BREAKER_FAILURE_RATE")),
        breaker_cooldown=float(setting("HTTP_BREAKER_COOLDOWN_SECONDS")),
        refresh_margin=float(setting("OAUTH_REFRESH_MARGIN_SECONDS")),
    )
