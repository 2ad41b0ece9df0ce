"""Mapping rules: locations -> stores, items -> products by barcode then SKU within the retailer, ambiguity left
to staff, manual choices never overwritten, held rows attached when staff map."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from inventory.ingest import attach_held_rows, ingest_items, ingest_locations, ingest_sales
from inventory.mapping import create_products_for, map_product
from inventory.models import Product, ProductMapping, Store, StoreMapping, Transaction
from inventory.records import Item, Location, SaleLine, Source

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def square(retailer):
    return Source(retailer_id=retailer.pk, provider="square", external_account_id="M1")


@pytest.fixture
def shopify(retailer):
    return Source(retailer_id=retailer.pk, provider="shopify", external_account_id="acme.myshopify.com")


def mapping(source, external_id):
    return ProductMapping.objects.get(provider=source.provider, external_account_id=source.external_account_id,
                                      external_id=external_id)


def test_location_creates_store_once_and_rename_does_not_duplicate(square):
    first = ingest_locations(square, [Location(external_id="L1", name="Main St", timezone="America/New_York")])
    again = ingest_locations(square, [Location(external_id="L1", name="Main St", timezone="America/New_York")])
    renamed = ingest_locations(square, [Location(external_id="L1", name="Main Street")])
    assert (first.created, again.unchanged, renamed.updated) == (1, 1, 1)
    store = Store.objects.get()
    assert (store.name, store.timezone) == ("Main St", "America/New_York")
    assert StoreMapping.objects.get().store == store


def test_second_provider_matches_first_providers_product_by_barcode_then_sku(square, shopify, retailer):
    ingest_items(square, [Item(external_id="SQ1", sku="A-1", barcode="00012345678905", name="Oat milk"),
                          Item(external_id="SQ2", sku="B-2", name="Bread")])
    assert Product.objects.filter(retailer=retailer).count() == 2  # first provider is the product master

    counts = ingest_items(shopify, [
        Item(external_id="gid://shopify/ProductVariant/1", sku="other-sku", barcode="00012345678905"),
        Item(external_id="gid://shopify/ProductVariant/2", sku="B-2"),
    ])

    assert counts.held == 0
    assert Product.objects.filter(retailer=retailer).count() == 2
    assert mapping(shopify, "gid://shopify/ProductVariant/1").product == mapping(square, "SQ1").product
    assert mapping(shopify, "gid://shopify/ProductVariant/2").product == mapping(square, "SQ2").product


def test_ambiguous_barcode_stays_unmapped_for_staff(shopify, retailer):
    Product.objects.create(retailer=retailer, name="Twin A", barcode="111")
    Product.objects.create(retailer=retailer, name="Twin B", barcode="111")
    counts = ingest_items(shopify, [Item(external_id="V1", barcode="111")])
    assert counts.held == 1
    assert mapping(shopify, "V1").product is None
    assert Product.objects.count() == 2  # nothing created for an ambiguous match


def test_sku_match_with_conflicting_barcode_is_not_taken(shopify, retailer):
    Product.objects.create(retailer=retailer, name="Other", sku="S1", barcode="999")
    ingest_items(shopify, [Item(external_id="V1", sku="S1", barcode="123")])
    assert mapping(shopify, "V1").product is None


def test_matching_stays_within_the_retailer(shopify, other_retailer):
    Product.objects.create(retailer=other_retailer, name="Theirs", barcode="555")
    ingest_items(shopify, [Item(external_id="V1", barcode="555", name="Ours")])
    product = mapping(shopify, "V1").product
    assert product.retailer_id == shopify.retailer_id and product.name == "Ours"


@override_settings(INVENTORY_AUTO_CREATE_PRODUCTS=False)
def test_no_product_creation_when_disabled(square):
    counts = ingest_items(square, [Item(external_id="SQ1", sku="A-1")])
    assert counts.held == 1 and not Product.objects.exists()


def test_item_without_barcode_or_sku_is_held(square):
    counts = ingest_items(square, [Item(external_id="SQ1", name="Mystery")])
    assert counts.held == 1 and not Product.objects.exists()


def test_manual_mapping_survives_rematching_and_resync(square, retailer):
    ingest_items(square, [Item(external_id="SQ1", sku="A-1", name="Auto")])
    chosen = Product.objects.create(retailer=retailer, name="Chosen by staff", sku="X")
    map_product(mapping(square, "SQ1"), chosen)

    ingest_items(square, [Item(external_id="SQ1", sku="A-1", name="Renamed", updated_at=T0)])

    m = mapping(square, "SQ1")
    assert (m.product, m.automatically_generated, m.external_name) == (chosen, False, "Renamed")


def test_staff_mapping_attaches_held_rows(square, retailer):
    ingest_locations(square, [Location(external_id="L1", name="Main")])
    ingest_items(square, [Item(external_id="SQ1", name="No ids")])  # held: nothing to match by
    ingest_sales(square, [SaleLine("O1", "1", "L1", "SQ1", Decimal("2"), T0)])
    assert Transaction.objects.get().product_id is None

    product = Product.objects.create(retailer=retailer, name="Resolved")
    attached = map_product(mapping(square, "SQ1"), product)

    assert attached == 1
    assert Transaction.objects.get().product == product
    assert attach_held_rows(mapping(square, "SQ1")) == 0  # idempotent


def test_map_product_refuses_other_retailers_product(square, other_retailer):
    ingest_items(square, [Item(external_id="SQ1")])
    foreign = Product.objects.create(retailer=other_retailer, name="Theirs")
    with pytest.raises(ValueError):
        map_product(mapping(square, "SQ1"), foreign)


def test_bulk_create_products_for_selected(square):
    ingest_items(square, [Item(external_id="SQ1", name="One"), Item(external_id="SQ2", name="Two")])
    assert create_products_for(ProductMapping.objects.all()) == 2
    assert sorted(Product.objects.values_list("name", flat=True)) == ["One", "Two"]
    assert not ProductMapping.objects.filter(product__isnull=True).exists()


def test_out_of_order_item_update_is_ignored(square):
    ingest_items(square, [Item(external_id="SQ1", sku="NEW", updated_at=T0 + timedelta(hours=1))])
    stale = ingest_items(square, [Item(external_id="SQ1", sku="OLD", updated_at=T0)])
    assert stale.unchanged == 1
    assert mapping(square, "SQ1").sku == "NEW"


def test_deleted_item_marks_mapping_and_retires_product_sold_nowhere_else(square, shopify):
    ingest_items(square, [Item(external_id="SQ1", barcode="777", name="Gone")])
    ingest_items(shopify, [Item(external_id="V1", barcode="777")])
    ingest_items(square, [Item(external_id="SQ1", barcode="777", deleted=True, updated_at=T0)])
    assert mapping(square, "SQ1").deleted_at_source
    assert mapping(square, "SQ1").product.is_active  # Shopify still sells it
    ingest_items(shopify, [Item(external_id="V1", barcode="777", deleted=True, updated_at=T0)])
    assert not mapping(square, "SQ1").product.is_active
