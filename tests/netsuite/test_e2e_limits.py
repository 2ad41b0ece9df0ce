"""End to end at NetSuite's limits: the account-wide concurrency pool shared by every worker process, and a
table larger than the 100,000 rows SuiteQL serves of one query."""

from __future__ import annotations

import pytest

from integrations.models import SyncRun
from inventory.models import InventoryLevel
from sandbox.data import Sizes

from .e2e import account_host, connect, sandbox_account, start_workers, stop_workers, sync

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
STREAMS = ["locations", "items", "inventory", "sales"]


@pytest.fixture
def two_worker_processes(sandbox_server):
    """4 workers: two processes of two threads, so the pool is shared across processes, not just threads."""
    running = start_workers(sandbox_server, count=2, threads=2)
    yield running
    stop_workers(running)


def in_flight_peak(sandbox, account):
    return sandbox.counters()["max_in_flight"].get(f"netsuite:{account_host(account)}", 0)


def test_four_workers_never_exceed_a_pool_of_two(sandbox_server, retailer, two_worker_processes):
    account = "2718281_SB1"
    sandbox_account(sandbox_server, account, Sizes(products=1500, locations=3, orders=1500))
    # The sandbox answers 429 above 2 in flight; every request is held 20 ms so that overlaps really happen.
    sandbox_server.set_faults("netsuite", netsuite_concurrency_limit=2, latency_ms=20)
    conn = connect(sandbox_server, retailer, account, concurrency=2)

    runs = sync(conn, STREAMS, timeout=240)

    assert in_flight_peak(sandbox_server, account) == 2  # reached, never passed
    assert 429 not in sandbox_server.counters()["statuses"].get(f"netsuite:{account_host(account)}", {})
    assert sandbox_server.counters()["requests"][f"netsuite:{account_host(account)}"] > 12
    assert all(run.status == SyncRun.Status.SUCCEEDED for run in runs.values())
    assert InventoryLevel.objects.count() == 3000 * 3


def test_pool_full_answers_are_retried_without_failing_the_run(sandbox_server, retailer, two_worker_processes):
    account = "3141592_SB1"
    sandbox_account(sandbox_server, account, Sizes(products=600, locations=2, orders=600))
    sandbox_server.set_faults("netsuite", netsuite_concurrency_limit=2, latency_ms=20)
    # The portal believes the account has the Standard pool of 5; NetSuite says otherwise with 429s.
    conn = connect(sandbox_server, retailer, account)

    runs = sync(conn, STREAMS, timeout=240)

    statuses = sandbox_server.counters()["statuses"][f"netsuite:{account_host(account)}"]
    assert statuses.get(429, 0) > 0  # the pool really was full at times
    assert all(run.status == SyncRun.Status.SUCCEEDED for run in runs.values())
    assert InventoryLevel.objects.count() == 1200 * 2


@pytest.mark.timeout(900)  # about 3 minutes on 2 shared cores (sandbox generation + 250k upserts)
def test_a_250k_row_table_is_synced_across_the_100k_cap(sandbox_server, retailer, settings):
    """50,000 items x 5 locations = 250,000 stock rows: three key windows (100k + 100k + 50k), never an offset
    the sandbox refuses (it answers NetSuite's error at offset 100,000)."""
    account = "1618033_SB1"
    sandbox_account(sandbox_server, account, Sizes(products=25_000, locations=5, orders=1))
    conn = connect(sandbox_server, retailer, account)
    workers = start_workers(sandbox_server, count=1, threads=1)
    try:
        runs = sync(conn, ["inventory"], timeout=900)
    finally:
        stop_workers(workers)

    run = runs["inventory"]
    assert run.records_seen == 250_000 and run.pages == 250
    assert InventoryLevel.objects.filter(retailer=retailer).count() == 250_000
    statuses = sandbox_server.counters()["statuses"][f"netsuite:{account_host(account)}"]
    assert set(statuses) == {200}  # no request past the cap
