"""The shared rate budget: many threads, one bucket, never more grants than the bucket allows. The clock is
injected, so the assertions count grants per window instead of measuring time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from integrations.http.limiters import ConcurrencyLimiter
from integrations.providers.base import RatePolicy
from integrations.providers.shopify.limiters import ShopifyGraphQLLimiter, ShopifyRestLimiter

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
RATE, BURST = 5.0, 10.0


def test_eight_threads_never_exceed_one_token_bucket(store, account_key):
    """Eight threads hammer try-acquire at every tick of a shared fake clock (a barrier keeps them in step).
    Without an atomic read-modify-write they would over-grant; with it, every window holds at most
    burst + rate * window grants, and the total is exactly what the bucket refills."""
    ticks, tick, tries_per_tick = 20, 0.5, 3
    now = [1000.0]
    grants: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS + 1)

    def worker():
        from django.db import connection

        try:
            for _ in range(ticks):
                barrier.wait()
                for _ in range(tries_per_tick):
                    r = store.bucket_reserve(account_key, now=now[0], cost=1, rate=RATE, burst=BURST, max_wait=0)
                    if r.granted:
                        with lock:
                            grants.append(now[0])
                barrier.wait()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for _ in range(ticks):
        barrier.wait()  # the workers try at this tick ...
        barrier.wait()  # ... and are done: move the clock
        now[0] += tick
    for t in threads:
        t.join()

    start = 1000.0
    # Demand (8 threads x 3 tries per tick) always exceeds supply, so the bucket is the only limit.
    assert len(grants) == int(BURST + RATE * tick * (ticks - 1))  # whole tokens only
    for i in range(ticks):
        for j in range(i, ticks):
            window = (j - i) * tick
            in_window = sum(1 for g in grants if start + i * tick <= g <= start + j * tick)
            assert in_window <= BURST + RATE * window, (i, j, in_window)


def test_reservations_from_eight_threads_are_spaced_by_the_rate(store, account_key):
    """The limiter's normal mode: every caller reserves and is told when to send. All callers ask at the same
    instant; the send times they are given never put more than burst + rate * W requests in any window W."""
    now, per_thread = 5000.0, 6
    sends: list[float] = []
    lock = threading.Lock()

    def worker():
        from django.db import connection

        try:
            for _ in range(per_thread):
                r = store.bucket_reserve(account_key, now=now, cost=1, rate=RATE, burst=BURST, max_wait=3600)
                assert r.granted
                with lock:
                    sends.append(now + r.wait)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sends.sort()
    assert len(sends) == THREADS * per_thread
    for i, first in enumerate(sends):
        for j in range(i, len(sends)):
            assert j - i + 1 <= BURST + RATE * (sends[j] - first) + 1e-6
    # And no slower than needed: the last send is exactly when the bucket has refilled enough.
    assert sends[-1] == pytest.approx(now + (THREADS * per_thread - BURST) / RATE)


def test_concurrency_slots_are_never_oversubscribed(store, account_key):
    """NetSuite: eight threads, a pool of 3 slots; a shared counter proves at most 3 are ever in flight."""
    policy = RatePolicy(kind="concurrency", concurrency=3, lease_seconds=60)
    in_flight, peak, done = [0], [0], []
    lock = threading.Lock()
    import time

    def worker():
        from django.db import connection

        limiter = ConcurrencyLimiter(store, account_key, policy, clock=time.time, sleep=time.sleep, max_wait=60)
        try:
            for _ in range(3):
                grant = limiter.acquire()
                with lock:
                    in_flight[0] += 1
                    peak[0] = max(peak[0], in_flight[0])
                time.sleep(0.01)  # hold the slot for a moment, as a request would
                with lock:
                    in_flight[0] -= 1
                limiter.release(grant)
                done.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == THREADS * 3 and peak[0] <= 3
    assert store.slots_in_use(account_key, now=time.time()) == 0


def test_slot_of_a_holder_that_never_releases_frees_after_its_lease(store, account_key):
    assert store.slot_acquire(account_key, holder="crashed", now=100.0, lease=30.0, limit=1).granted
    refused = store.slot_acquire(account_key, holder="next", now=129.0, lease=30.0, limit=1)
    assert not refused.granted and refused.wait == pytest.approx(1.0)
    assert store.slot_acquire(account_key, holder="next", now=130.5, lease=30.0, limit=1).granted


HOLDER_SCRIPT = """
import sys, time
from integrations.http.store.redis_store import RedisStore
store = RedisStore(sys.argv[1])
grant = store.slot_acquire(sys.argv[2], holder="doomed-worker", now=time.time(), lease=float(sys.argv[3]), limit=1)
print("acquired" if grant.granted else "refused", flush=True)
time.sleep(3600)
"""


@pytest.mark.redis
def test_worker_killed_while_holding_a_slot_does_not_leak_it_past_its_lease(redis_store, account_key):
    """A real process takes the only slot and is killed -9 (no release ever runs). Before the lease ends the slot
    is still taken; one moment after, it is free again. The clock is injected, so no sleeping here."""
    lease = 120.0
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", HOLDER_SCRIPT, os.environ["REDIS_URL"], account_key, str(lease)],
                            cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "acquired"
        import time

        taken_at = time.time()
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode == -9
    before = redis_store.slot_acquire(account_key, holder="survivor", now=taken_at + 1, lease=lease, limit=1)
    assert not before.granted  # the dead worker's lease still stands ...
    after = redis_store.slot_acquire(account_key, holder="survivor", now=taken_at + lease + 1, lease=lease, limit=1)
    assert after.granted and after.in_use == 1  # ... and then it is gone


def test_shopify_rest_bucket_is_corrected_from_the_call_limit_header(store, account_key, clock):
    class Answer:
        headers = {"X-Shopify-Shop-Api-Call-Limit": "38/80"}

    policy = RatePolicy(kind="shopify_rest", rate=2.0, burst=40.0)
    limiter = ShopifyRestLimiter(store, account_key, policy, clock=clock, sleep=clock.sleep, max_wait=60)
    grant = limiter.acquire()
    limiter.observe(grant, Answer())
    state = store.bucket_state(account_key)
    assert state["burst"] == 80.0  # the shop's real bucket (a bigger plan) is learnt ...
    assert state["tokens"] == 39.0  # ... but we never believe we have more room than our own count
    assert limiter.budget_left() == "38/80 used"
    Answer.headers = {"X-Shopify-Shop-Api-Call-Limit": "79/80"}
    limiter.observe(grant, Answer())
    assert store.bucket_state(account_key)["tokens"] == 1.0  # Shopify says less: believe Shopify


def test_shopify_graphql_reserves_expected_cost_settles_actual_and_learns_the_plan(store, account_key, clock):
    policy = RatePolicy(kind="shopify_graphql", rate=100.0, burst=2000.0)
    limiter = ShopifyGraphQLLimiter(store, account_key, policy, clock=clock, sleep=clock.sleep, max_wait=60)
    grant = limiter.acquire(cost=300)
    assert store.bucket_state(account_key)["tokens"] == 1700.0  # reserved up front
    payload = {"data": {}, "extensions": {"cost": {
        "requestedQueryCost": 300, "actualQueryCost": 120,
        "throttleStatus": {"maximumAvailable": 20000.0, "currentlyAvailable": 19880.0, "restoreRate": 1000.0}}}}
    limiter.observe(grant, None, payload)
    state = store.bucket_state(account_key)
    assert (state["burst"], state["rate"]) == (20000.0, 1000.0)  # a Plus shop: learnt, not hard-coded
    assert state["tokens"] == 1880.0  # the unused 180 points came back
    limiter.remember_cost("{ q }", payload)
    assert limiter.expected_cost("{ q }") == 300.0
    clock.advance(1.0)
    limiter.acquire(cost=300)
    assert store.bucket_state(account_key)["tokens"] == pytest.approx(1880 + 1000 - 300)


def test_graphql_bucket_is_capped_by_currently_available(store, account_key, clock):
    policy = RatePolicy(kind="shopify_graphql", rate=50.0, burst=1000.0)
    limiter = ShopifyGraphQLLimiter(store, account_key, policy, clock=clock, sleep=clock.sleep, max_wait=60)
    grant = limiter.acquire(cost=100)
    limiter.observe(grant, None, {"extensions": {"cost": {"requestedQueryCost": 100, "actualQueryCost": 100,
                                  "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 250.0,
                                                     "restoreRate": 50.0}}}})
    assert store.bucket_state(account_key)["tokens"] == 250.0  # another app/process spent the rest
    limiter.acquire(cost=300)
    assert clock.sleeps[-1] == pytest.approx((300 + 50 * 0.1 - 250) / 50.0)  # waits for the points, plus headroom


def test_budget_wait_longer_than_the_maximum_raises_instead_of_sleeping(store, account_key, clock):
    from integrations.http.errors import ProviderRateLimited
    from integrations.http.limiters import TokenBucketLimiter

    policy = RatePolicy(kind="token_bucket", rate=2.5, burst=1.0)  # ShipBob: 150/min
    waits: list[float] = []
    # Many callers at the same instant (the clock does not move): each later one is told to wait longer.
    limiter = TokenBucketLimiter(store, account_key, policy, clock=clock, sleep=waits.append, max_wait=1.0)
    for _ in range(3):
        limiter.acquire()
    assert waits == [pytest.approx(0.4), pytest.approx(0.8)]
    with pytest.raises(ProviderRateLimited) as err:
        limiter.acquire()  # would have to wait 1.2 s > max_wait: raise, take nothing
    assert err.value.retryable is False and err.value.retry_after == pytest.approx(1.2)
    assert store.bucket_state(account_key)["tokens"] == pytest.approx(-2.0)
