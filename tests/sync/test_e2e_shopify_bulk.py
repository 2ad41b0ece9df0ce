"""End to end: a Shopify shop's initial sync of variants and orders runs through sandbox bulk operations (JSONL
downloaded by the resilient client from the signed storage URL), later runs page with updated_at filters, and
nothing is stored twice. Real Celery worker, PostgreSQL, the sandbox server."""

from __future__ import annotations

import pytest

from integrations.models import ApiCallLog, SyncCursor
from integrations.sync import services
from inventory.models import ProductMapping, Transaction
from tests.processes import wait_until

from .e2e_helpers import finished, sandbox_connection, sync_all, unthrottled_shop

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _plus_plan(sandbox):
    # Bulk operations are under test, not the cost budget the other streams' pages wait on (e2e_helpers).
    unthrottled_shop(sandbox)


def bulk_queries(sandbox, shop):
    return [op.query for op in sandbox.state.shopify_bulk_ops.values() if op.shop == shop]


def test_initial_load_by_bulk_operation_then_paged_deltas_without_duplicates(sandbox, worker, retailer):
    connection = sandbox_connection(sandbox, retailer, "shopify")
    shop = connection.external_account_id
    merchant = sandbox.merchant("shopify")

    sync_all(connection)
    ops = [op for op in sandbox.state.shopify_bulk_ops.values() if op.shop == shop]
    assert sorted(op.query.split()[1] for op in ops) == ["orders", "productVariants"]
    assert all(op.status == "COMPLETED" for op in ops)
    downloads = ApiCallLog.objects.filter(connection=connection, url__contains="/storage/shopify-bulk/")
    assert downloads.count() == 2 and all(row.url.endswith("?[REDACTED]") for row in downloads)
    assert ProductMapping.objects.filter(retailer=retailer).count() == merchant.sizes.variants
    lines = Transaction.objects.filter(retailer=retailer)
    assert lines.count() == merchant.count_order_lines()
    for stream in ("variants", "orders"):
        cursor = SyncCursor.objects.get(connection=connection, stream=stream).value
        assert cursor["updated_at"] and "bulk" not in (cursor.get("page") or {})

    # Changes at the shop: a new sale, an old order cancelled, a product edit.
    sold = sandbox.create_sale("shopify", location=1, items=[(3, 2), (5, 1)])
    old_order = merchant.order(2)
    if old_order.state == "CANCELED":
        old_order = merchant.order(3)
    sandbox.cancel_order("shopify", order=old_order.index)
    sandbox.edit_product("shopify", item=9, price_cents=1234, barcode="0009990001112")

    second = sync_all(connection)
    assert len(bulk_queries(sandbox, shop)) == 2  # the deltas paged: no new bulk operation
    assert not ApiCallLog.objects.filter(connection=connection, url__contains="/storage/").exclude(
        pk__in=downloads.values("pk")).exists()
    assert lines.count() == merchant.count_order_lines()  # every line once
    sold_id = sold["order_id"].rsplit("/", 1)[-1]
    assert lines.filter(external_order_id=sold_id).count() == 2
    cancelled_id = str(5_000_000_000 + old_order.index)  # the numeric tail of its GID
    assert set(lines.filter(external_order_id=cancelled_id).values_list("state", flat=True)) == {"cancelled"}
    assert second["orders"].records_created == 2 and second["variants"].records_created == 0
    # The incremental variants run (productVariants sorted by ID under an updated_at filter, as the published
    # schema allows) found the edit, and its cursor moved only at the end of the run.
    edited = ProductMapping.objects.get(retailer=retailer, sku=merchant.variant(9).sku)
    assert edited.barcode == "0009990001112" and second["variants"].records_updated >= 1
    assert second["variants"].cursor_after["page"] is None
    assert second["variants"].cursor_after["updated_at"] > second["variants"].cursor_before["updated_at"]
    assert ProductMapping.objects.filter(retailer=retailer).count() == merchant.sizes.variants

    # A --full sync goes through bulk again and still stores nothing twice.
    sync_all(connection, full=True)
    assert len(bulk_queries(sandbox, shop)) == 4
    assert lines.count() == merchant.count_order_lines()
    assert ProductMapping.objects.filter(retailer=retailer).count() == merchant.sizes.variants


def run_variants(connection):
    run = services.request_sync(connection, "variants", trigger="manual")
    return wait_until(lambda: finished([run]), timeout=120, interval=0.25, what="the variants run")[0]


def test_a_short_bulk_read_fails_the_run_with_both_numbers_and_the_cursor_unchanged(sandbox, worker, retailer):
    connection = sandbox_connection(sandbox, retailer, "shopify")
    variants = sandbox.merchant("shopify").sizes.variants
    sandbox.set_faults("shopify", bulk_short_read=2)  # the next result download ends two lines early

    short = run_variants(connection)
    assert short.status == "failed"
    assert f"counted {variants} objects but {variants - 2} lines were read" in short.error
    cursor = SyncCursor.objects.get(connection=connection, stream="variants").value
    assert cursor["updated_at"] is None and cursor["high_water"] is None  # the bound did not move
    assert ProductMapping.objects.filter(retailer=retailer).count() == 0  # the short last page was not ingested

    # The next run resumes the same operation's file, reads it whole and completes.
    again = run_variants(connection)
    assert again.status == "succeeded", again.error
    assert len(bulk_queries(sandbox, connection.external_account_id)) == 1
    assert ProductMapping.objects.filter(retailer=retailer).count() == variants
    assert SyncCursor.objects.get(connection=connection, stream="variants").value["updated_at"]
