"""The one resilient provider client. Every call: token -> circuit breaker -> shared rate budget -> request
(pooled session, connect/read timeouts) -> classify -> call log row -> bounded retries (tenacity).

Retry matrix (README has the same table):
  2xx/3xx                         done; budget corrected from headers / GraphQL cost
  GraphQL 200 + THROTTLED         retried after (requested - currentlyAvailable) / restoreRate
  GraphQL 200 + other errors      ProviderError, not retried
  429, NetSuite pool-full codes   account blocked for Retry-After (or budget header, or jittered backoff); retried
  5xx, timeout, connection error  breaker failure; retried with full-jitter exponential backoff (Retry-After wins)
  401                             one forced token refresh, retried once; then ProviderAuthError
  other 4xx                       ProviderError with the provider's codes, never retried
A Retry-After above HTTP_MAX_RETRY_AFTER_SECONDS is not slept on: the error goes to the caller with retry_after.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception

from . import calllog, config
from .auth import access_token_for
from .breaker import CircuitBreaker
from .cookies import refuse_cookies
from .download import DownloadMixin
from .errorparsing import parse_error
from .errors import ProviderAuthError, ProviderError, ProviderRateLimited, ProviderUnavailable
from .limiters import build_limiter
from .pagination import PaginationMixin
from .redaction import is_secret_param, redact_text, redact_url
from .store import get_store

log = logging.getLogger("shelfops.http")

_sessions: dict[int, requests.Session] = {}
_sessions_lock = threading.Lock()


def pooled_session() -> requests.Session:
    """One pooled session per process (a forked worker builds its own: sockets must not be shared)."""
    with _sessions_lock:
        session = _sessions.get(os.getpid())
        if session is None:
            session = requests.Session()
            refuse_cookies(session)  # shared by every tenant: no cookie jar between calls
            size = int(config.setting("HTTP_POOL_MAXSIZE"))
            adapter = HTTPAdapter(pool_connections=16, pool_maxsize=size, max_retries=0)  # tenacity retries
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _sessions[os.getpid()] = session
        return session


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as delta-seconds or as an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - now, 0.0)


class ProviderResponse:
    """What callers get back: status, headers, parsed JSON. No raw ``requests`` objects leak to providers."""

    def __init__(self, response: requests.Response, payload=None):
        self._response = response
        self._payload = payload
        self.status_code = response.status_code
        self.headers = response.headers
        self.links = response.links

    @property
    def text(self) -> str:
        return self._response.text

    @property
    def content(self) -> bytes:
        return self._response.content

    def json(self):
        if self._payload is None:
            self._payload = decode_json(self._response)
        return self._payload


@dataclass
class _Call:
    method: str
    url: str
    logged_url: str
    params: dict | None
    json: object
    data: object
    headers: dict
    limiter: object
    cost: float
    graphql: bool
    secrets: tuple[str, ...]


@dataclass
class _Progress:
    attempt: int = 0
    retry_reason: str = ""
    force_refresh: bool = False


class ProviderClient(PaginationMixin, DownloadMixin):
    def __init__(self, provider, base_url: str, account_key: str, *, connection=None, rate_policy=None,
                 store=None, clock=time.time, sleep=time.sleep, session=None):
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.account_key = account_key
        self.connection = connection
        self.rate_policy = rate_policy or provider.rate_policy
        self.store = store or get_store()
        self.clock, self.sleep = clock, sleep
        self.session = session or pooled_session()
        refuse_cookies(self.session)  # an injected session too
        self.config = config.load()
        self.breaker = CircuitBreaker(self.store, account_key, clock=clock, config=self.config,
                                      provider=provider.key, label=account_key)
        overrides = (connection.settings or {}) if connection is not None else {}
        self._limiters = {
            channel: build_limiter(self.store, account_key, self.rate_policy, channel, overrides, clock=clock,
                                   sleep=sleep, config=self.config)
            for channel in ("rest", "graphql")
        }

    def __repr__(self) -> str:
        return f"<ProviderClient {self.account_key}>"

    # --- public API (see docs/seams.md) -----------------------------------------------------------------
    def get(self, path: str, params: dict | None = None, headers: dict | None = None, **kw) -> ProviderResponse:
        return self.request("GET", path, params=params, headers=headers, **kw)

    def post(self, path: str, json=None, data=None, headers: dict | None = None, params: dict | None = None,
             **kw) -> ProviderResponse:
        return self.request("POST", path, json=json, data=data, headers=headers, params=params, **kw)

    def put(self, path: str, json=None, headers: dict | None = None, **kw) -> ProviderResponse:
        return self.request("PUT", path, json=json, headers=headers, **kw)

    def delete(self, path: str, params: dict | None = None, headers: dict | None = None, **kw) -> ProviderResponse:
        return self.request("DELETE", path, params=params, headers=headers, **kw)

    def graphql(self, query: str, variables: dict | None = None, *, cost: float | None = None) -> dict:
        """POST a GraphQL query; returns ``data``. THROTTLED is retried (cost-based wait); other errors raise
        ``ProviderError`` with the ``extensions.code`` values. ``cost`` overrides the expected query cost."""
        limiter = self._limiters["graphql"]
        expected = limiter.expected_cost(query) if cost is None else cost
        path = getattr(self.provider, "graphql_path", "/graphql.json")
        response = self.request("POST", path, json={"query": query, "variables": variables or {}},
                                channel="graphql", cost=expected)
        payload = response.json()
        limiter.remember_cost(query, payload)
        return (payload or {}).get("data") or {}

    def request(self, method: str, path: str, *, params=None, json=None, data=None, headers=None,
                channel: str = "rest", cost: float = 1.0, retries: int | None = None) -> ProviderResponse:
        """``retries`` caps the attempts of this call (e.g. 1 for a non-idempotent OAuth code exchange)."""
        url = self._url(path)
        full = requests.models.PreparedRequest()
        full.prepare_url(url, params)  # the URL as sent, query included, for the (redacted) call log
        call = _Call(method=method.upper(), url=url, logged_url=redact_url(full.url), params=params, json=json,
                     data=data, headers=dict(headers or {}), limiter=self._limiters[channel], cost=float(cost),
                     graphql=channel == "graphql", secrets=self._secrets(headers, json, data))
        progress = _Progress()
        limit = max(1, retries or self.config.max_attempts)

        def stop(retry_state) -> bool:
            # The one retry after a forced token refresh is not a retry of a provider failure: it does not use up
            # the attempts, so "401 -> refresh -> retry once" holds even with a single allowed attempt.
            return retry_state.attempt_number >= limit + (1 if progress.force_refresh else 0)

        retrying = Retrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, ProviderError) and exc.retryable),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(self._attempt, call, progress)

    # --- one attempt -------------------------------------------------------------------------------------
    def _attempt(self, call: _Call, progress: _Progress) -> ProviderResponse:
        progress.attempt += 1
        headers = {**self.provider.default_headers(), **self._auth_headers(progress.force_refresh), **call.headers}
        self.breaker.before_call()
        grant = call.limiter.acquire(call.cost)
        started = time.monotonic()
        response = payload = failure = None
        try:
            response = self.session.request(
                call.method, call.url, params=call.params, json=call.json, data=call.data, headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout), allow_redirects=False,
            )
            payload = _json_or_none(response)
            failure = self._classify(call, progress, grant, response, payload)
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            kind = "timeout" if isinstance(exc, requests.Timeout) else "connection error"
            self.breaker.record_failure(kind)
            failure = ProviderUnavailable(kind, provider=self.provider.key)
        except requests.RequestException as exc:  # a bad URL or similar: our bug, not the provider's state
            failure = ProviderError(type(exc).__name__, provider=self.provider.key)
        finally:
            call.limiter.release(grant)
        self._record(call, progress, response, started, failure)
        if failure is not None:
            progress.retry_reason = _reason(failure)
            raise failure
        return ProviderResponse(response, payload)

    def _classify(self, call, progress, grant, response, payload) -> ProviderError | None:
        """None for success, else the typed error (``retryable`` tells tenacity whether to try again)."""
        status = response.status_code
        limiter = call.limiter
        if status < 400 and not (call.graphql and isinstance(payload, dict) and payload.get("errors")):
            self.breaker.record_success()
            limiter.observe(grant, response, payload)
            return None
        parsed = parse_error(self.provider.key, status, payload)
        detail = redact_text(parsed.detail, call.secrets)
        common = {"status": status, "codes": parsed.codes, "provider": self.provider.key}
        if status >= 500:
            self.breaker.record_failure(f"HTTP {status}")
            wait = self._capped(parse_retry_after(response.headers.get("Retry-After"), self.clock()))
            return ProviderUnavailable(detail or f"HTTP {status}", retry_after=wait[0],
                                       retryable=wait[1], **common)
        self.breaker.record_success()  # the provider answered: it is up, whatever it thinks of our request
        limiter.observe(grant, response, payload)
        if status == 429 or parsed.rate_limited or (call.graphql and limiter.throttled(payload)):
            hint = (parse_retry_after(response.headers.get("Retry-After"), self.clock())
                    or parse_retry_after(response.headers.get("x-retry-after"), self.clock())
                    or limiter.retry_after_hint(response, payload))
            if hint is None:
                hint = self._backoff(progress.attempt)
            limiter.penalize(hint)
            wait, retryable = self._capped(hint)
            return ProviderRateLimited(detail or "rate limited", retry_after=wait, retryable=retryable, **common)
        if status == 401 or (parsed.auth and status in (400, 403)):
            if status == 401 and self.connection is not None and not progress.force_refresh:
                progress.force_refresh = True  # one forced refresh, then one more try
                return ProviderAuthError(detail or "unauthorized", retryable=True, retry_after=0.0, **common)
            return ProviderAuthError(detail or "unauthorized", **common)
        if call.graphql and status < 400:
            return ProviderError(detail or "GraphQL errors", **common)
        return ProviderError(detail or f"HTTP {status}", **common)

    # --- helpers -----------------------------------------------------------------------------------------
    def _wait(self, retry_state) -> float:
        exc = retry_state.outcome.exception()
        if exc is not None and getattr(exc, "retry_after", None) is not None:
            return exc.retry_after  # Retry-After / budget headers override the backoff
        return self._backoff(retry_state.attempt_number)

    def _backoff(self, attempt: int) -> float:
        # Full jitter (AWS architecture blog): uniform over [0, min(cap, base * 2**attempt)].
        return random.uniform(0, min(self.config.backoff_max, self.config.backoff_base * 2 ** max(attempt - 1, 0)))

    def _capped(self, wait: float | None) -> tuple[float | None, bool]:
        if wait is None:
            return None, True
        return wait, wait <= self.config.max_retry_after

    def _auth_headers(self, force: bool) -> dict:
        if self.connection is None:
            return {}
        token = access_token_for(self.connection, refresh_margin=self.config.refresh_margin, force=force)
        return self.provider.auth_headers(token)

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            # Absolute URLs (pagination links) must stay on the provider's host: the token goes with them.
            base, target = urlsplit(self.base_url), urlsplit(path)
            if (target.scheme, target.netloc) != (base.scheme, base.netloc):
                raise ProviderError(f"refusing to send credentials to {target.netloc}", provider=self.provider.key)
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _secrets(self, headers, json, data) -> tuple[str, ...]:
        values = [v.split(" ", 1)[-1] for v in (headers or {}).values() if isinstance(v, str)]
        for body in (json, data):
            if isinstance(body, dict):
                values += [str(v) for k, v in body.items() if is_secret_param(str(k)) and v]
        if self.connection is not None and self.connection.access_token:
            values.append(self.connection.access_token)
        return tuple(v for v in values if len(v) >= 6)

    def _record(self, call: _Call, progress: _Progress, response, started: float, failure) -> None:
        duration_ms = int((time.monotonic() - started) * 1000)
        status = response.status_code if response is not None else None
        error = redact_text(str(failure), call.secrets) if failure is not None else ""
        record = calllog.AttemptRecord(
            provider=self.provider.key, account=self.account_key, method=call.method, url=call.logged_url,
            attempt=progress.attempt, duration_ms=duration_ms, status=status, retry_reason=progress.retry_reason,
            budget_left=call.limiter.budget_left(),
            request_id=calllog.request_id_of(response, self.provider.request_id_headers), error=error,
        )
        calllog.write(record, self.connection)
        level = logging.WARNING if failure is not None else logging.INFO
        log.log(level, "%s %s -> %s in %dms (attempt %d%s)%s", call.method, call.logged_url, status or "-",
                duration_ms, progress.attempt, f", budget {record.budget_left}" if record.budget_left else "",
                f": {error}" if error else "")


def decode_json(response: requests.Response):
    """The body as JSON. orjson first: a page of 1000 Square orders is ~2 MB, and the stdlib decoder took about a
    fifth of the client's time per synced line. What orjson refuses (NaN literals, integers beyond 64 bits, a
    body in a non-UTF-8 charset) goes to requests' own decoder, which raises ValueError if it is not JSON either."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def _json_or_none(response):
    if not response.content:
        return None
    try:
        return decode_json(response)
    except ValueError:
        return None


def _reason(failure: ProviderError) -> str:
    if failure.status:
        return f"HTTP {failure.status}" + (f" {','.join(failure.codes)}" if failure.codes else "")
    return type(failure).__name__ + (f": {failure.detail}" if failure.detail else "")
