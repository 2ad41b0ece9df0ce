"""End to end: the sandbox's Square and Shopify, a real Celery worker process, PostgreSQL.

Initial sync, then changes made in the sandbox appear after the next incremental run (new sales, stock changes,
deleted variations, cancelled orders), a run with no changes writes nothing, a worker killed mid-run is replaced
and the next run resumes from its last page with no duplicate rows, and injected 429/5xx slow runs down without
losing anything."""

from __future__ import annotations

import time

import pytest
from django.db.models import Max

from integrations.models import ApiCallLog, SyncCursor, SyncRun, SyncSchedule
from integrations.sync import dispatch, recovery, services
from inventory.models import InventoryLevel, ProductMapping, StoreMapping, Transaction
from sandbox.data import Sizes
from sandbox.server import SandboxServer
from sandbox.state import SandboxConfig
from tests.processes import wait_until
from tests.sandbox_fixtures import SandboxHandle

from .e2e_helpers import cancel_last_sale, sandbox_connection, start_worker, sync_all, unthrottled_shop

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def data_snapshot(retailer):
    return {
        "transactions": Transaction.objects.filter(retailer=retailer).count(),
        "txn_updated": Transaction.objects.filter(retailer=retailer).aggregate(m=Max("updated_at"))["m"],
        "levels_updated": InventoryLevel.objects.filter(retailer=retailer).aggregate(m=Max("updated_at"))["m"],
        "items_updated": ProductMapping.objects.filter(retailer=retailer).aggregate(m=Max("updated_at"))["m"],
    }


@pytest.mark.parametrize("provider", ["square", "shopify"])
def test_initial_incremental_and_idle_runs(provider, sandbox, worker, retailer):
    connection = sandbox_connection(sandbox, retailer, provider)
    merchant = sandbox.merchant(provider)
    sizes = merchant.sizes

    first = sync_all(connection)
    assert StoreMapping.objects.filter(retailer=retailer).count() == sizes.locations
    assert ProductMapping.objects.filter(retailer=retailer).count() == sizes.variants
    assert Transaction.objects.filter(retailer=retailer).count() == merchant.count_order_lines()
    assert InventoryLevel.objects.filter(retailer=retailer).count() == sizes.variants * sizes.locations
    assert all(run.records_created + run.records_updated > 0 for run in first.values())
    # Locations auto-mapped to stores; items matched or created as the mapping rules say, none lost.
    assert not StoreMapping.objects.filter(retailer=retailer, store__isnull=True).exists()

    # Changes at the provider: a sale (new lines, lower stock), a stock count, a deleted variant, a cancellation.
    sold = sandbox.create_sale(provider, location=1, items=[(3, 2), (5, 1)])
    sandbox.change_stock(provider, item=7, location=0, on_hand=42)
    deleted_sku = sandbox.edit_product(provider, item=9, deleted=True)["sku"]
    to_cancel = sandbox.create_sale(provider, location=0, items=[(11, 4)])
    cancel_last_sale(sandbox, provider)

    second = sync_all(connection)
    lines = Transaction.objects.filter(retailer=retailer)
    assert lines.count() == merchant.count_order_lines()
    assert lines.filter(external_order_id=_order_id(sold)).count() == 2
    assert lines.get(external_order_id=_order_id(to_cancel)).state == "cancelled"
    assert second["orders"].records_created == 3
    level = InventoryLevel.objects.get(retailer=retailer, store_mapping__external_name=merchant.location(0).name,
                                       product_mapping__sku=merchant.variant(7).sku)
    assert level.on_hand == 42
    items_stream = "catalog" if provider == "square" else "variants"
    if provider == "square":  # Square search includes deleted objects; Shopify deletions come by webhook
        gone = ProductMapping.objects.get(retailer=retailer, sku=deleted_sku)
        assert gone.deleted_at_source and gone.deleted_at_source_at
        assert second[items_stream].records_updated >= 1
        # The API shows it deleted at source, with when, once (the mapping row is kept, not removed).
        from rest_framework.test import APIClient

        from inventory.models import ApiToken

        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(retailer, 'e2e')[1]}")
        rows, url = [], "/api/v1/mappings/"
        while url:
            page = api.get(url).json()
            rows += [r for r in page["results"] if r["sku"] == deleted_sku]
            url = page.get("next")
        assert len(rows) == 1 and rows[0]["deleted_at_source"] is True and rows[0]["deleted_at_source_at"]
    for run in second.values():
        assert run.cursor_before == first[run.stream].cursor_after  # resumed from the cursor, not from scratch

    before = data_snapshot(retailer)
    third = sync_all(connection)
    assert data_snapshot(retailer) == before  # nothing written, not even updated_at
    for run in third.values():
        assert (run.records_created, run.records_updated) == (0, 0), run.stream


def _order_id(change: dict) -> str:
    return str(change["order_id"]).rsplit("/", 1)[-1]  # Shopify answers a GID; records carry the numeric id


@pytest.fixture
def big_sandbox(settings):
    """A merchant with enough orders for a run of many pages (1000 orders per Square page)."""
    config = SandboxConfig.from_django_settings(sizes=Sizes(products=50, locations=2, orders=12000),
                                                duplicate_webhook_probability=0.0, webhook_retry_scale=0.001)
    server = SandboxServer(config).start()
    handle = SandboxHandle(server)
    handle.set_webhook_target("http://127.0.0.1:9")
    settings.SQUARE_BASE_URL = f"{server.url}/square"
    yield handle
    server.stop()


def test_worker_killed_mid_run_is_replaced_and_resumes_from_its_last_page(big_sandbox, retailer):
    connection = sandbox_connection(big_sandbox, retailer, "square")
    SyncSchedule.objects.create(connection=connection, stream="orders", interval_seconds=3600,
                                next_run_at=connection.created_at.replace(year=2100))
    big_sandbox.set_faults("square", latency_ms=400)  # each page takes a while: the kill lands mid-run
    worker = start_worker(big_sandbox, concurrency=1)
    try:
        run = services.request_sync(connection, "orders", trigger="manual")
        wait_until(lambda: SyncRun.objects.get(pk=run.pk).pages >= 3, timeout=120, what="three pages committed")
        worker.kill()
    finally:
        worker.stop()
    killed = SyncRun.objects.get(pk=run.pk)
    saved = SyncCursor.objects.get(connection=connection, stream="orders")
    assert killed.status == "running" and killed.pages >= 3
    assert saved.value == killed.cursor_after  # the cursor of the last committed page
    lines_at_kill = Transaction.objects.filter(retailer=retailer).count()
    assert 0 < lines_at_kill < big_sandbox.merchant("square").count_order_lines()

    # The heartbeat stops; recovery (run by the dispatcher task every 30 s) fails the run and makes it due now.
    time.sleep(1.2)
    assert recovery.fail_stale_runs(timeout_seconds=1) == [killed.pk]
    big_sandbox.set_faults("square", latency_ms=0)
    worker = start_worker(big_sandbox, concurrency=1)
    try:
        assert dispatch.dispatch_due()["queued"] == 1
        resumed = wait_until(
            lambda: SyncRun.objects.filter(connection=connection, stream="orders", status="succeeded").first(),
            timeout=180, what="the replacement run to finish")
    finally:
        worker.stop()
    assert resumed.trigger == "schedule" and resumed.cursor_before == saved.value
    total = big_sandbox.merchant("square").count_order_lines()
    assert Transaction.objects.filter(retailer=retailer).count() == total
    # Resumed, not restarted: it read only what the killed run had not committed (plus the overlap window).
    assert resumed.records_seen < total
    assert resumed.records_created == total - lines_at_kill


@pytest.mark.parametrize("provider", ["square", "shopify"])
def test_injected_429_and_5xx_slow_the_run_but_lose_nothing(provider, sandbox, retailer):
    connection = sandbox_connection(sandbox, retailer, provider)
    faults = {"fail_next": [503, 502, 429, 500, 429]}
    if provider == "square":
        faults["square_requests_per_second"] = 4.0  # Square publishes no limit: the sandbox enforces one
    else:
        unthrottled_shop(sandbox)  # injected 429/5xx are under test, not the GraphQL cost bucket (e2e_helpers)
    sandbox.set_faults(provider, **faults)
    worker = start_worker(sandbox, concurrency=2)
    try:
        runs = sync_all(connection, timeout=300)
    finally:
        worker.stop()
    merchant = sandbox.merchant(provider)
    assert Transaction.objects.filter(retailer=retailer).count() == merchant.count_order_lines()
    assert ProductMapping.objects.filter(retailer=retailer).count() == merchant.sizes.variants
    assert InventoryLevel.objects.filter(retailer=retailer).count() == (
        merchant.sizes.variants * merchant.sizes.locations)
    statuses = sandbox.counters()["statuses"].get(provider, {})
    assert statuses.get(429, statuses.get("429", 0)) >= 2
    assert sum(v for k, v in statuses.items() if str(k).startswith("5")) >= 3
    retried = ApiCallLog.objects.filter(connection=connection, status_code__in=[429, 500, 502, 503])
    assert retried.count() >= 5
    assert all(run.status == "succeeded" for run in runs.values())
