"""Shopify's two rate budgets as limiter kinds of the shared store: the REST leaky bucket and the GraphQL cost
bucket. Registered in the shared kind table when the provider package loads."""

from __future__ import annotations

import re

from integrations.http.limiters import Limiter, apply_overrides, register_limiter
from integrations.providers.base import RatePolicy

CALL_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


@register_limiter("shopify_rest")
class ShopifyRestLimiter(Limiter):
    """Shopify REST leaky bucket (Standard: 40 requests, leaking 2/s), corrected on every answer from
    ``X-Shopify-Shop-Api-Call-Limit: used/size``: the size is learnt, and we never believe we have more room
    than Shopify says."""

    def _call_limit(self, response) -> tuple[float, float] | None:
        match = CALL_LIMIT.match(response.headers.get("X-Shopify-Shop-Api-Call-Limit", ""))
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


@register_limiter("shopify_graphql")
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

    def throttled(self, payload) -> bool:
        return _is_throttled(payload)

    @classmethod
    def channel_policy(cls, policy: RatePolicy, channel: str, overrides: dict) -> tuple[RatePolicy, str]:
        """GraphQL and REST are two budgets of one shop: REST is its own leaky bucket (Standard plan figures;
        Plus leaks 20/s: set connection.settings["rest_rate_policy"] = {"rate": 20})."""
        if channel == "graphql":
            return apply_overrides(policy, overrides.get("rate_policy") or {}), channel
        rest = RatePolicy(kind="shopify_rest", rate=float(policy.extra.get("rest_rate", 2.0)),
                          burst=float(policy.extra.get("rest_burst", 40.0)))
        return apply_overrides(rest, overrides.get("rest_rate_policy") or {}), channel

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
