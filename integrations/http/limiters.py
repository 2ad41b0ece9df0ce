"""Per-account rate limiters, one kind per ``RatePolicy.kind``, all over the shared store (Redis or database).

A limiter is asked before every attempt (``acquire``), told what the provider said after it (``observe``), and
told about throttling answers (``penalize``). ``acquire`` sleeps until the reservation is due, or raises
``ProviderRateLimited`` (not retried) when that would be longer than ``HTTP_MAX_BUDGET_WAIT_SECONDS``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace

from integrations.providers.base import RatePolicy

from .errors import ProviderRateLimited

SHOPIFY_CALL_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


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


class ShopifyRestLimiter(Limiter):
    """Shopify REST leaky bucket (Standard: 40 requests, leaking 2/s), corrected on every answer from
    ``X-Shopify-Shop-Api-Call-Limit: used/size``: the size is learnt, and we never believe we have more room
    than Shopify says."""

    def _call_limit(self, response) -> tuple[float, float] | None:
        match = SHOPIFY_CALL_LIMIT.match(response.headers.get("X-Shopify-Shop-Api-Call-Limit", ""))
        return (float(match.group(1)), float(match.group(2))) if match else None

    def observe(self, grant, response, payload=None) -> None:
        limit = self._call_limit(response)
        if limit:
            used, size = limit
            self.store.bucket_adjust(self.key, now=self.clock(), rate=self.policy.rate, burst=self.policy.burst,
                                     cap=size - used, learn_burst=size)
            self.last_budget = f"{used:g}/{size:g} used"

    def retry_after_hint(self, response, payload=None) -> float | None:
        limit = self._call_limit(response)
        if limit:
            used, size = limit
            return max(used - size + 1.0, 1.0) / max(self.policy.rate, 1e-9)
        return None


class ShopifyGraphQLLimiter(Limiter):
    """Shopify GraphQL cost bucket: reserve the query's expected cost, settle with ``actualQueryCost``, and
    resync from ``throttleStatus`` so the plan's real size and restore rate are learnt."""

    # Learnt requestedQueryCost per query text (per process); the first call of a query uses the default.
    expected_costs: dict[int, float] = {}

    def headroom(self) -> float:
        return self.policy.rate * self.headroom_seconds

    def expected_cost(self, query: str) -> float:
        return self.expected_costs.get(hash(query), float(self.policy.extra.get("default_query_cost", 50.0)))

    def remember_cost(self, query: str, payload) -> None:
        requested = _cost_block(payload).get("requestedQueryCost")
        if isinstance(requested, int | float):
            self.expected_costs[hash(query)] = float(requested)

    def observe(self, grant, response, payload=None) -> None:
        cost = _cost_block(payload)
        status = cost.get("throttleStatus") or {}
        throttled = _is_throttled(payload)
        # A throttled query is not charged; otherwise Shopify charged requested and refunded down to actual.
        spent = 0.0 if throttled else float(cost.get("actualQueryCost") or cost.get("requestedQueryCost") or grant.cost)
        available = status.get("currentlyAvailable")
        self.store.bucket_adjust(
            self.key, now=self.clock(), rate=self.policy.rate, burst=self.policy.burst,
            refund=max(grant.cost - spent, 0.0),
            cap=float(available) if available is not None else None,
            learn_rate=status.get("restoreRate"), learn_burst=status.get("maximumAvailable"),
        )
        if status:
            self.last_budget = f"{available:g}/{status.get('maximumAvailable', self.policy.burst):g}"

    def penalize(self, retry_after: float) -> None:
        # observe() already capped the bucket at currentlyAvailable: a cheaper query may still fit, so only an
        # explicit wait (HTTP 429 / Retry-After) blocks the account.
        now = self.clock()
        self.store.bucket_adjust(self.key, now=now, rate=self.policy.rate, burst=self.policy.burst,
                                 block_until=now + retry_after)

    def retry_after_hint(self, response, payload=None) -> float | None:
        cost = _cost_block(payload)
        status = cost.get("throttleStatus") or {}
        if not status:
            return None
        requested = float(cost.get("requestedQueryCost") or 0.0)
        short = requested - float(status.get("currentlyAvailable", 0.0))
        return max(short, 1.0) / max(float(status.get("restoreRate") or self.policy.rate), 1e-9)


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


def _cost_block(payload) -> dict:
    if isinstance(payload, dict):
        return (payload.get("extensions") or {}).get("cost") or {}
    return {}


def _is_throttled(payload) -> bool:
    if not isinstance(payload, dict):
        return False
    errors = payload.get("errors")
    if not isinstance(errors, list):  # REST-style {"errors": "Exceeded 2 calls per second..."} on a 429/5xx
        return False
    return any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


LIMITERS = {
    "token_bucket": TokenBucketLimiter,
    "shopify_rest": ShopifyRestLimiter,
    "shopify_graphql": ShopifyGraphQLLimiter,
    "reactive": ReactiveLimiter,
    "concurrency": ConcurrencyLimiter,
    # A dotted path: its module subclasses Limiter from this one, so it is imported when first used.
    "sliding_window": "integrations.http.sliding_window.SlidingWindowLimiter",
}

# Shopify's REST Admin API has its own leaky bucket beside the GraphQL cost bucket (Standard plan figures;
# Plus leaks 20/s: set connection.settings["rest_rate_policy"] = {"rate": 20}).
SHOPIFY_REST_DEFAULT = RatePolicy(kind="shopify_rest", rate=2.0, burst=40.0)


def effective_policy(policy: RatePolicy, channel: str, overrides: dict | None) -> tuple[RatePolicy, str]:
    """The policy for a channel ("rest" or "graphql") of an account, with per-connection overrides applied;
    returns it with the budget key suffix (Shopify keeps REST and GraphQL budgets apart)."""
    overrides = overrides or {}
    suffix = ""
    if policy.kind == "shopify_graphql":
        suffix = channel
        if channel != "graphql":
            policy = RatePolicy(kind="shopify_rest", rate=float(policy.extra.get("rest_rate", 2.0)),
                                burst=float(policy.extra.get("rest_burst", 40.0)))
            overrides = overrides.get("rest_rate_policy") or {}
        else:
            overrides = overrides.get("rate_policy") or {}
    else:
        concurrency = overrides.get("concurrency")
        overrides = dict(overrides.get("rate_policy") or {})
        if concurrency:
            overrides.setdefault("concurrency", int(concurrency))
    known = {k: v for k, v in overrides.items() if k in {"rate", "burst", "concurrency", "lease_seconds"}}
    if known:
        policy = replace(policy, **known)
    return policy, suffix


def build_limiter(store, account_key: str, policy: RatePolicy, channel: str, overrides: dict | None, *, clock,
                  sleep, config) -> Limiter:
    policy, suffix = effective_policy(policy, channel, overrides)
    key = f"{account_key}:{suffix}" if suffix else account_key
    cls = LIMITERS.get(policy.kind, ReactiveLimiter)
    if isinstance(cls, str):
        from django.utils.module_loading import import_string

        cls = import_string(cls)
    return cls(store, key, policy, clock=clock, sleep=sleep, max_wait=config.max_budget_wait,
               headroom_seconds=config.headroom_seconds, slow_seconds=config.reactive_slow_seconds)
