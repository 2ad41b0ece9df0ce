"""The generic ``sliding_window`` policy (ShipBob: 150 requests per 60 s per user + application), on both shared
stores: never more than N leases inside any window, waits until the oldest request leaves the window, learns
from the provider's remaining-calls header, and a 429's retry-after blocks the account."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from integrations.http.errors import ProviderRateLimited
from integrations.http.limiters import LIMITERS
from integrations.http.sliding_window import SlidingWindowLimiter
from integrations.providers.base import RatePolicy

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = RatePolicy(kind="sliding_window", rate=150.0, burst=150.0,
                    extra={"window_seconds": 60.0, "remaining_header": "x-remaining-calls"})


def limiter(store, key, clock, **kw):
    return SlidingWindowLimiter(store, key, POLICY, clock=clock, sleep=clock.sleep, max_wait=kw.get("max_wait", 120))


def test_kind_table_names_it(store, account_key, clock):
    from integrations.http.config import load
    from integrations.http.limiters import build_limiter

    assert "sliding_window" in LIMITERS
    built = build_limiter(store, account_key, POLICY, "rest", None, clock=clock, sleep=clock.sleep,
                          config=load())
    assert isinstance(built, SlidingWindowLimiter)


def test_150_at_once_then_the_151st_waits_for_the_oldest_to_leave_the_window(store, account_key, clock):
    sw = limiter(store, account_key, clock)
    for _ in range(150):
        sw.acquire()
    assert clock.sleeps == []
    sw.acquire()
    # The oldest lease ends 60 s (+1 s margin for the request's travel) after it was taken.
    assert sum(clock.sleeps) == pytest.approx(61.0, abs=0.05)


def test_any_61_second_span_holds_at_most_150_requests(store, account_key, clock):
    sw = limiter(store, account_key, clock)
    times = []
    for i in range(400):
        sw.acquire()
        times.append(clock.now)
        clock.advance(0.1 if i % 7 else 0.0)
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 61.0) <= 150


def test_workers_share_one_window(store, account_key):
    import time

    limiters = [SlidingWindowLimiter(store, account_key, POLICY, clock=time.time, sleep=time.sleep, max_wait=0.5)
                for _ in range(4)]
    granted, refused = [], []

    def work(sw):
        from django.db import connection

        try:
            for _ in range(60):
                try:
                    sw.acquire()
                    granted.append(1)
                except ProviderRateLimited:
                    refused.append(1)
        finally:
            connection.close()  # the database store's thread connection

    threads = [threading.Thread(target=work, args=(sw,)) for sw in limiters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 150 and len(refused) == 90


def test_remaining_calls_header_fills_the_window(store, account_key, clock):
    sw = limiter(store, account_key, clock)
    sw.acquire()
    sw.observe(None, SimpleNamespace(headers={"x-remaining-calls": "10"}))
    assert store.slots_in_use(account_key, now=clock.now) == 140
    for _ in range(10):
        sw.acquire()
    assert clock.sleeps == []
    sw.acquire()
    assert clock.sleeps  # the 11th waited


def test_429_retry_after_blocks_every_worker(store, account_key, clock):
    sw, other = limiter(store, account_key, clock), limiter(store, account_key, clock)
    sw.penalize(25.0)
    other.acquire()
    assert sum(clock.sleeps) == pytest.approx(25.0, abs=0.05)


def test_a_wait_longer_than_the_budget_wait_raises(store, account_key, clock):
    sw = limiter(store, account_key, clock, max_wait=5)
    for _ in range(150):
        sw.acquire()
    with pytest.raises(ProviderRateLimited):
        sw.acquire()
