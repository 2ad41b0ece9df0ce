"""Merging two products or two stores moves their mappings, sales lines and stock levels, is recorded, and can be
undone; admin does it from the lists."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from inventory.ingest import ingest_items, ingest_locations, ingest_sales, ingest_stock
from inventory.matching.merge import MergeRefused, merge, undo
from inventory.models import CatalogMerge, InventoryLevel, Product, Store, Transaction
from inventory.records import Item, Location, SaleLine, Source, StockLevel
from tests.test_ingest_mappings import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(retailer):
    """The same tea known under two SKUs and no barcode in two systems: two products and two stores."""
    sq, sh = Source(retailer.pk, "square", "M1"), Source(retailer.pk, "shopify", "acme.myshopify.com")
    for source, item, loc in ((sq, "SQ1", "L1"), (sh, "SH1", "L9")):
        ingest_locations(source, [Location(loc, f"Store {loc}", address=f"{loc} Some Road, Town")])
        ingest_items(source, [Item(item, sku=f"{item}-SKU", name="Green tea")])
        ingest_sales(source, [SaleLine("O1", "1", loc, item, Decimal("1"), T0)])
        ingest_stock(source, [StockLevel(loc, item, T0, available=Decimal("5"))])
    return sq, sh


def test_merge_moves_everything_and_undo_restores_it(twins, retailer):
    kept, merged = Product.objects.order_by("pk")
    record = merge(kept, merged, who="ops")
    assert set(Transaction.objects.values_list("product_id", flat=True)) == {kept.pk}
    assert set(InventoryLevel.objects.values_list("product_id", flat=True)) == {kept.pk}
    merged.refresh_from_db()
    assert not merged.is_active and record.rows_moved == 2 and len(record.moved_mapping_ids) == 1

    assert undo(record) == 2
    assert sorted(Transaction.objects.values_list("product_id", flat=True)) == [kept.pk, merged.pk]
    merged.refresh_from_db()
    assert merged.is_active
    with pytest.raises(MergeRefused):
        undo(record)


def test_merge_refuses_other_retailers_and_itself(twins, other_retailer):
    product = Product.objects.first()
    foreign = Product.objects.create(retailer=other_retailer, name="Theirs")
    with pytest.raises(MergeRefused):
        merge(product, foreign)
    with pytest.raises(MergeRefused):
        merge(product, product)


def test_staff_merge_two_stores_in_admin_and_undo(twins):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    client = Client()
    client.force_login(user)
    stores = list(Store.objects.order_by("pk"))
    page = client.post(reverse("admin:inventory_store_changelist"),
                       {"action": "merge_two", "_selected_action": [s.pk for s in stores]}, follow=True)
    assert "Merged" in page.content.decode()
    assert set(Transaction.objects.values_list("store_id", flat=True)) == {stores[0].pk}
    record = CatalogMerge.objects.get()
    client.post(reverse("admin:inventory_catalogmerge_changelist"),
                {"action": "undo_merges", "_selected_action": [record.pk]})
    assert sorted(Transaction.objects.values_list("store_id", flat=True)) == [s.pk for s in stores]
    one = client.post(reverse("admin:inventory_store_changelist"),
                      {"action": "merge_two", "_selected_action": [stores[0].pk]}, follow=True)
    assert "Select exactly two" in one.content.decode()
