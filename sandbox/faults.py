"""Fault injection, switchable per provider at run time (``POST /_sandbox/faults/<provider>``).

Random faults draw from a seeded RNG so a run is reproducible; ``fail_next`` gives exact, ordered failures for
tests (``[503, 429]`` = the next request answers 503, the one after 429). Faults apply to a provider's API and
token endpoints, never to the authorize pages a person clicks.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field

# Shopify GraphQL cost buckets by plan: (maximumAvailable, restoreRate per second), provider-facts 2.4.
SHOPIFY_PLANS = {"standard": (2000.0, 100.0), "advanced": (4000.0, 200.0), "plus": (20000.0, 1000.0),
                 "enterprise": (40000.0, 2000.0)}
# NetSuite account-wide concurrency pool by service tier (+10 per SuiteCloud Plus licence), provider-facts 3.3.
NETSUITE_PLANS = {"standard": 5, "premium": 15, "enterprise": 20, "ultimate": 20}


@dataclass
class Fault:
    """What the server does instead of (or before) answering normally."""

    status: int = 0  # 0 = answer normally
    retry_after: int | None = None
    timeout: float = 0.0  # hold the request this long, then answer 504 (the client should have given up)


@dataclass
class Faults:
    seed: str = ""
    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    fail_next: list[int] = field(default_factory=list)
    # "expired" / "revoked": every API call answers as if the caller's access token had expired / been revoked.
    token_state: str = ""
    # Shopify: a key of SHOPIFY_PLANS (cost bucket); NetSuite: a key of NETSUITE_PLANS (concurrency pool, enforced
    # only when a plan is set); Square: unused (see square_requests_per_second).
    plan: str = ""
    suitecloud_plus_licences: int = 0
    # NetSuite: an explicit size for the account's concurrency pool (overrides ``plan``; 0 = use the plan).
    netsuite_concurrency_limit: int = 0
    # Square publishes no numbers; set one to make the sandbox answer 429 RATE_LIMITED above it (per merchant).
    square_requests_per_second: float = 0.0
    # Shopify bulk operations: the least time (sandbox clock) one takes to finish, and an errorCode to fail it with
    # (``INTERNAL_SERVER_ERROR``/``TIMEOUT``: FAILED with a partialDataUrl holding the first half of the objects).
    bulk_seconds: float = 0.0
    bulk_error_code: str = ""
    # Shopify bulk operations: the next result download ends this many lines early (a truncated transfer that
    # still looks complete), then the setting goes back to 0.
    bulk_short_read: int = 0
    # ShipBob: its sliding window (150 requests per 60 s per user + application); a benchmark may shorten the window.
    shipbob_window_limit: int = 150
    shipbob_window_seconds: float = 60.0

    def __post_init__(self):
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def update(self, **changes) -> None:
        unknown = set(changes) - set(self.public())
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        for key, value in changes.items():
            if key == "seed":
                continue
            setattr(self, key, type(getattr(self, key))(value) if key != "fail_next" else [int(v) for v in value])

    def public(self) -> dict:
        data = asdict(self)
        data.pop("seed")
        return data

    def draw(self) -> Fault:
        """The fault for one request (consumes ``fail_next`` first, then the random rates)."""
        with self._lock:
            if self.fail_next:
                status = self.fail_next.pop(0)
                if status == 504:
                    return Fault(status=504, timeout=self.timeout_seconds)
                return Fault(status=status, retry_after=self.retry_after if status == 429 else None)
            roll = self._rng.random()
        if roll < self.timeout_rate:
            return Fault(status=504, timeout=self.timeout_seconds)
        roll -= self.timeout_rate
        if roll < self.rate_limit_rate:
            return Fault(status=429, retry_after=self.retry_after)
        roll -= self.rate_limit_rate
        if roll < self.error_rate:
            return Fault(status=self.error_status)
        return Fault()

    def shopify_bucket(self) -> tuple[float, float]:
        return SHOPIFY_PLANS.get(self.plan or "standard", SHOPIFY_PLANS["standard"])

    def netsuite_concurrency(self) -> int | None:
        if self.netsuite_concurrency_limit > 0:
            return self.netsuite_concurrency_limit
        if self.plan not in NETSUITE_PLANS:
            return None
        return NETSUITE_PLANS[self.plan] + 10 * self.suitecloud_plus_licences
