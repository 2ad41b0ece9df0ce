"""Ingest of stock levels: one row per (location, item), out-of-order safe, unreported states kept, levels seen
by a secondary id (Shopify inventory item) before their item attach when the item arrives."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from inventory.ingest import ingest_items, ingest_locations, ingest_stock
from inventory.models import InventoryLevel, ProductMapping
from inventory.records import Item, Location, Source, StockLevel

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def shop(retailer):
    source = Source(retailer_id=retailer.pk, provider="shopify", external_account_id="acme.myshopify.com")
    ingest_locations(source, [Location(external_id="LOC1", name="Warehouse")])
    return source


def level(**kw):
    defaults = {"location_external_id": "LOC1", "item_external_id": "V1", "as_of": T0}
    return StockLevel(**{**defaults, **kw})


def test_levels_upsert_once_and_identical_resync_writes_nothing(shop):
    ingest_items(shop, [Item(external_id="V1", sku="S1")])
    first = ingest_stock(shop, [level(available=Decimal("1.5"), on_hand=Decimal("3"))])
    stamp = InventoryLevel.objects.get().updated_at
    again = ingest_stock(shop, [level(available=Decimal("1.5"), on_hand=Decimal("3"))])
    assert (first.created, again.unchanged, again.updated) == (1, 1, 0)
    row = InventoryLevel.objects.get()
    assert row.updated_at == stamp
    assert (row.available, row.on_hand, row.store.name, row.product.sku) == (Decimal("1.5"), 3, "Warehouse", "S1")


def test_older_as_of_never_overwrites_and_unreported_state_is_kept(shop):
    ingest_stock(shop, [level(available=Decimal("5"), on_hand=Decimal("9"), as_of=T0 + timedelta(minutes=10))])
    stale = ingest_stock(shop, [level(available=Decimal("1"), as_of=T0)])
    newer = ingest_stock(shop, [level(available=Decimal("4"), as_of=T0 + timedelta(minutes=20))])
    assert (stale.unchanged, newer.updated) == (1, 1)
    row = InventoryLevel.objects.get()
    assert (row.available, row.on_hand) == (Decimal("4"), Decimal("9"))


def test_states_reported_as_separate_records_merge(shop):
    ingest_stock(shop, [level(available=Decimal("2")), level(committed=Decimal("1"))])
    row = InventoryLevel.objects.get()
    assert (row.available, row.committed) == (Decimal("2"), Decimal("1"))


def test_level_by_secondary_id_before_item_is_held_then_attached(shop):
    counts = ingest_stock(shop, [level(item_external_id="INV-9", item_id_is_secondary=True, available=Decimal("7"))])
    assert counts.held == 1 and InventoryLevel.objects.get().product_id is None
    ingest_items(shop, [Item(external_id="V9", sku="S9", secondary_id="INV-9")])
    row = InventoryLevel.objects.get()
    assert row.product_mapping.external_id == "V9"
    assert row.product.sku == "S9" and row.available == Decimal("7")
    assert ProductMapping.objects.count() == 1  # the placeholder is gone
    again = ingest_stock(shop, [level(item_external_id="INV-9", item_id_is_secondary=True, available=Decimal("7"))])
    assert again.unchanged == 1 and InventoryLevel.objects.count() == 1


def test_unknown_location_held(shop):
    ingest_items(shop, [Item(external_id="V1", sku="S1")])
    counts = ingest_stock(shop, [level(location_external_id="LOC-X", available=Decimal("1"))])
    assert counts.held == 1
    assert InventoryLevel.objects.get().store_id is None
