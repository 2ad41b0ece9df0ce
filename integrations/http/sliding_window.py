"""The ``sliding_window`` rate policy: at most ``rate`` requests in any ``extra["window_seconds"]`` seconds per
account key, across all workers (ShipBob: 150 per 60 s per user and application).

A request takes a lease in the shared store's slot semaphore (Redis script, or the database on the embedded
default) that is never released: it expires ``window`` seconds later, so the leases alive at any moment are
exactly the requests of the last window: a sliding-window log without a new store primitive. The lease runs
``margin`` (default 1 s) past the window, because the provider counts a request when it arrives, which is a
little after we took its lease.

Corrections from the provider:
- ``extra["remaining_header"]`` (``x-remaining-calls``): when the provider says fewer calls remain than our free
  leases (another process of the same app, a lost store), placeholder leases take up the difference;
- a 429 with ``extra["retry_after_header"]`` (``x-retry-after``) or ``Retry-After`` blocks the whole account for
  that long (the client reads both headers and calls ``penalize``).
"""

from __future__ import annotations

import uuid

from .errors import ProviderRateLimited
from .limiters import Grant, Limiter


class SlidingWindowLimiter(Limiter):
    def _window(self) -> float:
        return float(self.policy.extra.get("window_seconds", 60.0))

    def _lease(self) -> float:
        return self._window() + float(self.policy.extra.get("margin_seconds", 1.0))

    def _limit(self) -> int:
        return max(int(self.policy.rate), 1)

    def acquire(self, cost: float = 1.0) -> Grant:
        self._reserve(cost, reactive=True)  # honours a block set by penalize() after a 429
        limit, waited = self._limit(), 0.0
        while True:
            grant = self.store.slot_acquire(self.key, holder=uuid.uuid4().hex, now=self.clock(),
                                            lease=self._lease(), limit=limit)
            if grant.granted:
                self.last_budget = f"{limit - grant.in_use}/{limit} left in window"
                return Grant(cost=cost)
            # The oldest lease expires in grant.wait: sleep until then (bounded by the budget wait).
            if waited + grant.wait > self.max_wait:
                raise ProviderRateLimited(f"window of {limit} requests full for {grant.wait:.1f}s",
                                          retry_after=grant.wait, retryable=False)
            pause = max(grant.wait, 0.01)
            self.sleep(pause)
            waited += pause

    def observe(self, grant, response, payload=None) -> None:
        header = self.policy.extra.get("remaining_header")
        raw = response.headers.get(header) if header else None
        if raw is None:
            return
        try:
            remaining = int(float(raw))
        except ValueError:
            return
        limit, now = self._limit(), self.clock()
        in_use = self.store.slots_in_use(self.key, now=now)
        # The provider knows of more calls in its window than we hold leases for: hold placeholders for them.
        for _ in range(max(0, min(limit - remaining - in_use, limit))):
            self.store.slot_acquire(self.key, holder=uuid.uuid4().hex, now=now, lease=self._window(), limit=limit)
        self.last_budget = f"{remaining}/{limit} (provider)"
