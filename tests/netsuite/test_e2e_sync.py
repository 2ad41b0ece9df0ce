"""End to end: the sandbox's NetSuite account synced by real Celery worker processes on PostgreSQL, through the
resilient client, SuiteQL paging and ingest."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from inventory.models import InventoryLevel, Product, ProductMapping, Store, StoreMapping, Transaction
from sandbox.data import Sizes
from sandbox.netsuite.tables import sale_type

from .e2e import connect, sandbox_account, start_workers, stop_workers, sync

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
STREAMS = ["locations", "items", "inventory", "sales"]
ACCOUNT = "4815162_SB1"


@pytest.fixture
def workers(sandbox_server):
    running = start_workers(sandbox_server, count=1, threads=4)
    yield running
    stop_workers(running)


def expected_sales(merchant, types=("CashSale", "CustInvc")):
    """(order id, line id) -> quantity of the sandbox's item lines of the synced transaction types."""
    return {(str(o.index + 1), str(line.line_index + 1)): line.quantity
            for o in merchant.iter_orders() if sale_type(o.index) in types for line in o.lines}


def test_initial_then_incremental_sync_of_a_multi_location_account(sandbox_server, retailer, workers):
    merchant = sandbox_account(sandbox_server, ACCOUNT, Sizes(products=60, locations=4, orders=90))
    conn = connect(sandbox_server, retailer, ACCOUNT)

    first = sync(conn, STREAMS)

    # Locations -> stores, items -> products (SKU = itemid, barcode = UPC), stock per item and location.
    assert StoreMapping.objects.filter(external_account_id=ACCOUNT).count() == 4
    assert set(Store.objects.filter(retailer=retailer).values_list("name", flat=True)) == {
        loc.name for loc in merchant.locations()}
    assert ProductMapping.objects.filter(external_account_id=ACCOUNT).count() == merchant.sizes.variants == 120
    variant = merchant.variant(7)
    product = Product.objects.get(retailer=retailer, sku=variant.sku)
    assert product.barcode == variant.barcode
    assert InventoryLevel.objects.filter(retailer=retailer).count() == 120 * 4
    level = InventoryLevel.objects.get(product=product, store__name=merchant.location(2).name)
    stock = merchant.stock(7, 2)
    assert (level.on_hand, level.available, level.committed) == (stock.on_hand, stock.available, stock.committed)
    assert InventoryLevel.objects.filter(product__isnull=True).count() == 0  # nothing left held

    # Sales: cash sales and invoices (not sales orders), quantities positive, in the transaction's currency.
    expected = expected_sales(merchant)
    stored = {(t.external_order_id, t.external_line_id): t for t in Transaction.objects.filter(retailer=retailer)}
    assert set(stored) == set(expected)
    assert all(stored[key].quantity == Decimal(qty) for key, qty in expected.items())
    assert {t.currency for t in stored.values()} == {"USD"}
    assert all(t.store_id and t.product_id for t in stored.values())
    assert first["sales"].cursor_after["updated_at"] and first["items"].cursor_after["updated_at"]

    # Changes at NetSuite: a new sale (of a synced type) and an edited item; the next runs read only the delta.
    while True:
        sale = sandbox_server.create_sale("netsuite", ACCOUNT, location=1, items=[(5, 2), (9, 1)])
        if sale_type(sale["transaction_id"] - 1) in ("CashSale", "CustInvc"):
            break
    sandbox_server.edit_product("netsuite", ACCOUNT, item=3, barcode="099999999993")

    second = sync(conn, ["items", "sales"])

    # The edited item, plus what the 5-minute overlap re-reads (the newest items of the first run).
    assert 1 <= second["items"].records_seen < 5
    assert ProductMapping.objects.get(external_account_id=ACCOUNT, sku=merchant.variant(3).sku).barcode == (
        "099999999993")
    lines = Transaction.objects.filter(external_order_id=str(sale["transaction_id"])).order_by("external_line_id")
    store = merchant.location(1).name
    assert [(t.sku, t.quantity, t.store.name) for t in lines] == [
        (merchant.variant(5).sku, 2, store), (merchant.variant(9).sku, 1, store)]
    assert second["sales"].records_seen < 10  # the new sale plus the overlap window, not the history
    assert Transaction.objects.filter(retailer=retailer).count() == len(expected) + 2


def test_sales_orders_are_synced_when_the_connection_asks_for_them(sandbox_server, retailer, workers):
    merchant = sandbox_account(sandbox_server, ACCOUNT, Sizes(products=20, locations=2, orders=30))
    conn = connect(sandbox_server, retailer, ACCOUNT, include_sales_orders=True)
    sync(conn, ["sales"])
    types = Counter(sale_type(int(order) - 1) for order in
                    Transaction.objects.values_list("external_order_id", flat=True).distinct())
    assert set(types) == {"CashSale", "CustInvc", "SalesOrd"}
    assert Transaction.objects.count() == len(expected_sales(merchant, ("CashSale", "CustInvc", "SalesOrd")))
