"""On PostgreSQL: the unique constraints plus ON CONFLICT make concurrent ingests of the same data safe - no
duplicate rows, no errors, one product per new item, and the staged COPY path behaves like the VALUES path."""

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from inventory.ingest import ingest_items, ingest_locations, ingest_sales, ingest_stock, upsert
from inventory.models import InventoryLevel, Product, ProductMapping, Store, StoreMapping, Transaction
from inventory.records import Item, Location, SaleLine, Source, StockLevel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def run_in_threads(n, fn):
    errors, barrier = [], threading.Barrier(n)

    def worker():
        try:
            barrier.wait()
            fn()
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def lines(n_orders=300, per_order=3):
    return [
        SaleLine(f"O{o}", f"L{i}", f"LOC{o % 3}", f"V{(o + i) % 50}", Decimal("1.5"), T0, sku=f"S{(o + i) % 50}",
                 unit_price=Decimal("2.25"), currency="USD", order_updated_at=T0)
        for o in range(n_orders) for i in range(per_order)
    ]


def test_concurrent_ingest_of_same_batch_makes_no_duplicates(retailer):
    source = Source(retailer_id=retailer.pk, provider="square", external_account_id="M1")
    items = [Item(external_id=f"V{i}", sku=f"S{i}", barcode=f"B{i}", name=f"Item {i}") for i in range(50)]
    locations = [Location(external_id=f"LOC{i}", name=f"Store {i}") for i in range(3)]
    batch = lines()
    stock = [StockLevel(f"LOC{i % 3}", f"V{i}", T0, available=Decimal(i)) for i in range(50)]

    def ingest_everything():
        ingest_locations(source, locations)
        ingest_items(source, items)
        ingest_sales(source, batch, replace_orders=True)
        ingest_stock(source, stock)

    errors = run_in_threads(4, ingest_everything)

    assert errors == []
    assert Transaction.objects.count() == len(batch)
    assert StoreMapping.objects.count() == 3 and Store.objects.count() == 3
    assert ProductMapping.objects.count() == 50 and Product.objects.count() == 50
    assert InventoryLevel.objects.count() == 50
    assert not Transaction.objects.filter(product__isnull=True).exists()
    assert not Transaction.objects.filter(state="cancelled").exists()


def test_concurrent_sales_before_catalog_create_one_held_mapping_each(retailer):
    source = Source(retailer_id=retailer.pk, provider="square", external_account_id="M1")
    batch = lines()
    errors = run_in_threads(4, lambda: ingest_sales(source, batch))
    assert errors == []
    assert ProductMapping.objects.count() == 50 and StoreMapping.objects.count() == 3
    assert Transaction.objects.filter(product__isnull=True).count() == len(batch)


def test_staged_copy_path_is_idempotent_and_counts_like_values_path(retailer, monkeypatch):
    source = Source(retailer_id=retailer.pk, provider="square", external_account_id="M1")
    monkeypatch.setattr(upsert, "COPY_THRESHOLD", 10)
    batch = lines(n_orders=400)
    first = ingest_sales(source, batch)
    stamp = Transaction.objects.order_by("pk").values_list("updated_at", flat=True).first()
    again = ingest_sales(source, batch)
    edited = ingest_sales(source, [
        SaleLine(line.order_external_id, line.line_external_id, line.location_external_id, line.item_external_id,
                 Decimal("2"), T0, order_updated_at=T0) if i % 2 else line
        for i, line in enumerate(batch)
    ])
    assert (first.created, first.held) == (1200, 1200)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1200)
    assert (edited.updated, edited.unchanged) == (600, 600)
    assert Transaction.objects.count() == 1200
    assert Transaction.objects.order_by("pk").values_list("updated_at", flat=True).first() == stamp
