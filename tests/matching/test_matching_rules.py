"""Matching rules: GTINs in any format, SKU spellings, names only in support, conflicts become suggestions,
stores by address and timezone, a person's decision is never overwritten."""

import pytest

from inventory.ingest import ingest_items, ingest_locations
from inventory.mapping import map_product
from inventory.matching.keys import address_key, barcode_key, gtin14, sku_key
from inventory.models import Product, ProductMapping, Store, StoreMapping
from inventory.records import Item, Location, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def sources(retailer):
    return [Source(retailer.pk, p, f"{p}-account") for p in ("square", "shopify", "netsuite")]


def mapping(source, external_id, model=ProductMapping):
    return model.objects.get(provider=source.provider, external_account_id=source.external_account_id,
                             external_id=external_id)


def test_keys_normalise_spellings_and_validate_check_digits():
    assert sku_key(" sku-000123 ") == sku_key("SKU 000123") == sku_key("SKU000123") == "SKU000123"
    assert gtin14("036000291452") == gtin14("0036000291452") == gtin14("00036000291452") == "00036000291452"
    assert gtin14("036000291453") == ""  # wrong check digit: not a GTIN
    assert barcode_key("036000291453") == "X:036000291453"
    assert address_key("100 MAIN ST., Portland, OR 97000") == address_key("100 Main Street, Portland, OR, US")


def test_same_gtin_in_three_formats_is_one_product(sources):
    sq, sh, ns = sources
    ingest_items(sq, [Item("A", sku="SKU-1", barcode="036000291452", name="Oat Milk - Large")])
    ingest_items(sh, [Item("B", sku="sku-1", barcode="0036000291452", name="oat milk - large")])
    ingest_items(ns, [Item("C", sku="SKU1", barcode="00036000291452", name="OAT MILK. - (Large)")])
    products = {mapping(s, e).product_id for s, e in zip(sources, "ABC", strict=True)}
    assert len(products) == 1 and Product.objects.count() == 1
    m = mapping(ns, "C")
    assert m.match_confidence == pytest.approx(0.99) and "same GTIN 00036000291452 and SKU" in m.match_reason


def test_same_sku_without_barcode_needs_agreeing_names(sources, retailer):
    sq, sh, ns = sources
    ingest_items(sq, [Item("A", sku="SKU-1", name="Organic Coffee 1 - Large"),
                      Item("B", sku="SKU-2", name="Wild Honey 2 - Small")])
    ingest_items(sh, [Item("X", sku="sku-1", name="COFFEE, ORGANIC 1 - LARGE"),
                      Item("Y", sku="SKU 2", name="Spiced Pasta 9 - Bulk")])
    matched, doubtful = mapping(sh, "X"), mapping(sh, "Y")
    assert matched.product == mapping(sq, "A").product and "same SKU SKU1" in matched.match_reason
    assert doubtful.product is None and doubtful.suggested_product == mapping(sq, "B").product
    assert "names only" in doubtful.suggestion_reason and doubtful.suggestion_confidence < 0.9
    assert Product.objects.filter(retailer=retailer).count() == 2  # neither a silent merge nor a silent new row


def test_same_sku_different_valid_gtin_is_a_suggestion_never_a_merge(sources, retailer):
    sq, sh, _ = sources
    ingest_items(sq, [Item("A", sku="SKU-1", barcode="036000291452", name="Oat Milk")])
    counts = ingest_items(sh, [Item("B", sku="SKU-1", barcode="012345678905", name="Oat Milk")])
    m = mapping(sh, "B")
    assert counts.held == 1 and m.product is None
    assert m.suggested_product == mapping(sq, "A").product
    assert "different barcodes" in m.suggestion_reason
    assert Product.objects.filter(retailer=retailer).count() == 1


def test_a_gtin_learned_through_a_sku_match_finds_the_next_system(sources):
    sq, sh, ns = sources
    ingest_items(sq, [Item("A", sku="SKU-1", name="Oat Milk")])  # Square lacks the barcode
    ingest_items(sh, [Item("B", sku="sku-1", barcode="036000291452", name="oat milk")])
    ingest_items(ns, [Item("C", sku="OM-LEGACY", barcode="00036000291452", name="OAT MILK")])
    assert mapping(sq, "A").product == mapping(sh, "B").product == mapping(ns, "C").product
    assert mapping(ns, "C").product.barcode_key == "00036000291452"


def test_manual_decision_is_never_overwritten_and_clears_suggestion(sources, retailer):
    sq, sh, _ = sources
    ingest_items(sq, [Item("A", sku="SKU-1", barcode="036000291452", name="Oat Milk")])
    ingest_items(sh, [Item("B", sku="SKU-1", barcode="012345678905", name="Oat Milk")])
    chosen = Product.objects.create(retailer=retailer, name="Oat Milk (new recipe)", barcode="012345678905")
    map_product(mapping(sh, "B"), chosen, reason="staff: a new recipe, a new product")
    ingest_items(sh, [Item("B", sku="SKU-1", barcode="036000291452", name="Oat Milk")])
    m = mapping(sh, "B")
    assert (m.product, m.automatically_generated, m.suggested_product) == (chosen, False, None)
    assert m.match_reason == "staff: a new recipe, a new product"


def test_stores_match_by_address_whatever_their_names(sources):
    sq, sh, ns = sources
    ingest_locations(sq, [Location("L1", "Chicago #3", "America/Chicago", "121 Park Street, Chicago, IL, US")])
    ingest_locations(sh, [Location("9", "Chicago - Park St", "", "121 Park St, Chicago, IL, 97002, US")])
    ingest_locations(ns, [Location("3", "IL-003 CHICAGO", "America/Denver", "121 PARK ST., Chicago, IL 97002")])
    store = mapping(sq, "L1", StoreMapping).store
    assert mapping(sh, "9", StoreMapping).store == store and Store.objects.count() == 1
    conflicting = mapping(ns, "3", StoreMapping)  # same building, another timezone: a person decides
    assert conflicting.store is None and conflicting.suggested_store == store
    assert "timezone" in conflicting.suggestion_reason


def test_gtin_fast_path_agrees_with_stdnum_validate():
    import random

    from stdnum import ean
    from stdnum.exceptions import ValidationError

    rng = random.Random(14)
    for _ in range(5000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([7, 8, 11, 12, 13, 14, 15])))
        try:
            expected = ean.validate(digits).zfill(14)
        except ValidationError:
            expected = ""
        assert gtin14(digits) == expected, digits
    assert gtin14(" 0 36000 29145 2 ") == "00036000291452"  # spaced spellings still go through validate


def test_a_second_location_of_one_system_at_one_address_is_not_folded_in(sources):
    sq = sources[0]
    ingest_locations(sq, [Location("L1", "Shop", "America/Chicago", "121 Park Street, Chicago, IL, US")])
    ingest_locations(sq, [Location("L2", "Stockroom", "America/Chicago", "121 Park St, Chicago, IL, US")])
    second = mapping(sq, "L2", StoreMapping)
    assert second.store is None and second.suggested_store == mapping(sq, "L1", StoreMapping).store
    assert "another location of this system" in second.suggestion_reason
