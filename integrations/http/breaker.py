"""Circuit breaker per provider account, its state shared through the store like the budget.

closed --N failures within the window, and at least RATE of the calls there--> open --cool-down--> half-open
(one probe) --success--> closed, --failure--> open
The rate matters: a provider failing 15% of calls is slow, not down; the client's retries ride it out, so the
sync finishes instead of being cut off at page 7 of 40. A provider that is down fails every call (rate 100%).
Only connection errors, timeouts and 5xx count as failures: a 4xx is the caller's fault and a 429 means the
provider is up (and is handled by the limiter). Opening alerts staff once: an ERROR on ``shelfops.alerts`` (mailed
to ADMINS by settings.LOGGING's AdminEmailHandler), and the state shows on the connection in admin.
"""

from __future__ import annotations

import logging

from .errors import CircuitOpen

alerts = logging.getLogger("shelfops.alerts")
log = logging.getLogger("shelfops.http")


class CircuitBreaker:
    def __init__(self, store, key: str, *, clock, config, provider: str = "", label: str = ""):
        self.store, self.key, self.clock, self.config = store, key, clock, config
        self.provider = provider
        self.label = label or key

    def before_call(self) -> str:
        """``allow`` or ``probe``; raises ``CircuitOpen`` while the breaker is open (or a probe is in flight)."""
        decision, wait = self.store.breaker_before(self.key, now=self.clock(), cooldown=self.config.breaker_cooldown,
                                                   probe_timeout=self.config.probe_timeout)
        if decision == "reject":
            raise CircuitOpen(f"circuit open for {self.label}; next probe in {wait:.0f}s", provider=self.provider,
                              retry_after=wait)
        if decision == "probe":
            log.info("circuit half-open for %s: sending one probe", self.label)
        return decision

    def record_success(self) -> None:
        previous = self.store.breaker_success(self.key, now=self.clock(), window=self.config.breaker_window)
        if previous != "closed":
            log.warning("circuit closed again for %s (was %s)", self.label, previous)

    def record_failure(self, reason: str) -> None:
        outcome = self.store.breaker_failure(self.key, now=self.clock(), window=self.config.breaker_window,
                                             threshold=self.config.breaker_failures,
                                             rate=self.config.breaker_failure_rate)
        if outcome == "opened":
            alerts.error(
                "Circuit breaker OPEN for %s after %s (%d+ failures and %.0f%%+ of calls within %.0fs, or a failed "
                "probe); calls are rejected for %.0fs, then one probe is let through.",
                self.label, reason, self.config.breaker_failures, 100 * self.config.breaker_failure_rate,
                self.config.breaker_window,
                self.config.breaker_cooldown,
            )

    def state(self) -> dict:
        return self.store.breaker_state(self.key)
