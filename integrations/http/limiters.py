"""Per-account rate limiters, one kind per ``RatePolicy.kind``, all over the shared store (Redis or database).

A limiter is asked before every attempt (``acquire``), told what the provider said after it (``observe``), and
told about throttling answers (``penalize``). ``acquire`` sleeps until the reservation is due, or raises
``ProviderRateLimited`` (not retried) when that would be longer than ``HTTP_MAX_BUDGET_WAIT_SECONDS``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from integrations.providers.base import RatePolicy

from .errors import ProviderRateLimited


@dataclass
class Grant:
    cost: float = 1.0
    holder: str | None = None


class Limiter:
    def __init__(self, store, key: str, policy: RatePolicy, *, clock, sleep, max_wait: float,
                 headroom_seconds: float = 0.1, slow_seconds: float = 300.0):
        self.store, self.key, self.policy = store, key, policy
        self.clock, self.sleep, self.max_wait = clock, sleep, max_wait
        self.headroom_seconds, self.slow_seconds = headroom_seconds, slow_seconds
        self.last_budget = ""

    # The budget a request-count bucket keeps unspent, so that arrival jitter never tips the provider over.
    def headroom(self) -> float:
        return max(1.0, self.policy.rate * self.headroom_seconds)

    def _reserve(self, cost: float, *, reactive: bool = False) -> None:
        r = self.store.bucket_reserve(self.key, now=self.clock(), cost=cost, rate=self.policy.rate,
                                      burst=self.policy.burst, max_wait=self.max_wait,
                                      headroom=0.0 if reactive else self.headroom(), reactive=reactive)
        if not r.granted:
            raise ProviderRateLimited(f"shared budget exhausted for {r.wait:.1f}s", retry_after=r.wait,
                                      retryable=False)
        if r.tokens is not None:
            self.last_budget = f"{max(r.tokens, 0):.1f}/{self.policy.burst:g}"
        if r.wait > 0:
            self.sleep(r.wait)

    def acquire(self, cost: float = 1.0) -> Grant:
        self._reserve(cost)
        return Grant(cost=cost)

    def release(self, grant: Grant) -> None:
        """Called after every attempt, whatever happened (concurrency slots are given back here)."""

    def observe(self, grant: Grant, response, payload=None) -> None:
        """Correct the shared budget from the provider's answer (headers, GraphQL cost)."""

    def penalize(self, retry_after: float) -> None:
        """The provider throttled us: every worker of the account waits ``retry_after``."""
        self.store.bucket_adjust(self.key, now=self.clock(), rate=self.policy.rate, burst=self.policy.burst,
                                 cap=0.0, block_until=self.clock() + retry_after)

    def retry_after_hint(self, response, payload=None) -> float | None:
        """Seconds to wait derived from budget headers/body when the provider sent no ``Retry-After``."""
        return None

    def budget_left(self) -> str:
        return self.last_budget

    # --- GraphQL and channel hooks (kinds that price queries or split channels override them) -------------
    def expected_cost(self, query: str) -> float:
        """What a GraphQL query is expected to cost before it is sent."""
        return 1.0

    def remember_cost(self, query: str, payload) -> None:
        """Learn a query's cost from the answer, for its next call."""

    def throttled(self, payload) -> bool:
        """True when a 200 GraphQL answer says the call was throttled (the client then waits and retries)."""
        return False

    @classmethod
    def channel_policy(cls, policy: RatePolicy, channel: str, overrides: dict) -> tuple[RatePolicy, str]:
        """The policy a channel of the account uses, per-connection overrides applied, and the budget key
        suffix ("" = one budget for every channel). ``overrides`` is ``Connection.settings``."""
        concurrency = overrides.get("concurrency")
        known = dict(overrides.get("rate_policy") or {})
        if concurrency:
            known.setdefault("concurrency", int(concurrency))
        return apply_overrides(policy, known), ""


def apply_overrides(policy: RatePolicy, overrides: dict) -> RatePolicy:
    known = {k: v for k, v in overrides.items() if k in {"rate", "burst", "concurrency", "lease_seconds"}}
    return replace(policy, **known) if known else policy


class TokenBucketLimiter(Limiter):
    """Providers that publish a rate (ShipBob 150/min): ``rate`` tokens/s, ``burst`` capacity."""

    def observe(self, grant, response, payload=None) -> None:
        remaining = response.headers.get("x-remaining-calls") or response.headers.get("x-ratelimit-remaining")
        if remaining is not None:
            try:
                cap = float(remaining)
            except ValueError:
                return
            self.store.bucket_adjust(self.key, now=self.clock(), rate=self.policy.rate, burst=self.policy.burst,
                                     cap=cap)
            self.last_budget = f"{cap:g}/{self.policy.burst:g}"


class ReactiveLimiter(Limiter):
    """Square publishes no numbers: no pre-emptive budget until a 429; then the whole account is blocked for the
    Retry-After/backoff and paced at ``rate`` (halved on every further 429) for ``HTTP_REACTIVE_SLOW_SECONDS``."""

    def acquire(self, cost: float = 1.0) -> Grant:
        self._reserve(cost, reactive=True)
        return Grant(cost=cost)

    def penalize(self, retry_after: float) -> None:
        now = self.clock()
        self.store.bucket_adjust(self.key, now=now, rate=self.policy.rate, burst=self.policy.burst,
                                 block_until=now + retry_after, slow_until=now + self.slow_seconds,
                                 min_rate=float(self.policy.extra.get("min_rate", 0.2)))
        self.last_budget = "slowed after 429"


class ConcurrencyLimiter(ReactiveLimiter):
    """NetSuite: one account-wide pool of concurrent requests. A slot is a lease in a distributed semaphore, so a
    worker that dies holding one frees it after ``lease_seconds``. 429s also block/slow the account."""

    def acquire(self, cost: float = 1.0) -> Grant:
        self._reserve(cost, reactive=True)  # the post-429 block, if any
        holder = uuid.uuid4().hex
        limit = max(int(self.policy.concurrency), 1)
        waited, poll = 0.0, 0.02
        while True:
            grant = self.store.slot_acquire(self.key, holder=holder, now=self.clock(),
                                            lease=self.policy.lease_seconds, limit=limit)
            if grant.granted:
                self.last_budget = f"{limit - grant.in_use}/{limit} slots free"
                return Grant(cost=cost, holder=holder)
            if waited >= self.max_wait:
                raise ProviderRateLimited(f"all {limit} concurrent slots busy", retry_after=min(grant.wait, 5.0),
                                          retryable=False)
            # Slots usually free up when a request finishes, long before the lease: poll, backing off.
            pause = min(poll, grant.wait or poll, self.max_wait - waited)
            self.sleep(pause)
            waited += pause
            poll = min(poll * 2, 0.5)

    def release(self, grant: Grant) -> None:
        if grant.holder:
            self.store.slot_release(self.key, holder=grant.holder)


# The kind table: ``RatePolicy.kind`` -> limiter class. Generic kinds are listed here; a provider whose budget
# works its own way registers its kinds from its package with ``register_limiter`` (loaded with the registry).
LIMITERS: dict[str, type[Limiter] | str] = {
    "token_bucket": TokenBucketLimiter,
    "reactive": ReactiveLimiter,
    "concurrency": ConcurrencyLimiter,
    # A dotted path: its module subclasses Limiter from this one, so it is imported when first used.
    "sliding_window": "integrations.http.sliding_window.SlidingWindowLimiter",
}


def register_limiter(kind: str):
    """Class decorator for a provider package's own limiter kind."""
    def decorate(cls: type[Limiter]) -> type[Limiter]:
        LIMITERS[kind] = cls
        return cls
    return decorate


def limiter_class(kind: str) -> type[Limiter]:
    if kind not in LIMITERS:
        from integrations.providers import all_providers

        all_providers()  # provider packages register their kinds on import
    cls = LIMITERS.get(kind, ReactiveLimiter)
    if isinstance(cls, str):  # named by dotted path where importing it here would be circular
        from django.utils.module_loading import import_string

        cls = LIMITERS[kind] = import_string(cls)
    return cls


def effective_policy(policy: RatePolicy, channel: str, overrides: dict | None) -> tuple[RatePolicy, str]:
    """The policy for a channel ("rest" or "graphql") of an account, with per-connection overrides applied;
    returns it with the budget key suffix (a limiter kind may keep its channels' budgets apart)."""
    return limiter_class(policy.kind).channel_policy(policy, channel, overrides or {})


def build_limiter(store, account_key: str, policy: RatePolicy, channel: str, overrides: dict | None, *, clock,
                  sleep, config) -> Limiter:
    policy, suffix = effective_policy(policy, channel, overrides)
    key = f"{account_key}:{suffix}" if suffix else account_key
    cls = limiter_class(policy.kind)
    return cls(store, key, policy, clock=clock, sleep=sleep, max_wait=config.max_budget_wait,
               headroom_seconds=config.headroom_seconds, slow_seconds=config.reactive_slow_seconds)
