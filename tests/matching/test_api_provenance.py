"""API: products and stores show the systems they are known in, and what waits for a person with held counts;
accepting the suggestion attaches the held rows and the product then lists the new system."""

from decimal import Decimal

import pytest

from inventory.ingest import ingest_items, ingest_locations, ingest_sales, ingest_stock
from inventory.matching import review
from inventory.models import ProductMapping
from inventory.records import Item, Location, SaleLine, Source, StockLevel
from tests.api.conftest import token_client
from tests.test_ingest_mappings import T0

pytestmark = pytest.mark.django_db


def test_products_and_stores_show_their_systems_and_held_counts(retailer, other_retailer):
    sq, sh = Source(retailer.pk, "square", "M1"), Source(retailer.pk, "shopify", "acme.myshopify.com")
    ingest_locations(sq, [Location("L1", "Chicago #3", "America/Chicago", "121 Park Street, Chicago, IL")])
    ingest_locations(sh, [Location("9", "Chicago - Park St", "", "121 Park St, Chicago, IL, 97002, US")])
    ingest_items(sq, [Item("A", sku="SKU-1", barcode="036000291452", name="Oat Milk")])
    ingest_items(sh, [Item("B", sku="sku-1", barcode="012345678905", name="oat milk")])  # conflicting GTIN
    ingest_sales(sh, [SaleLine("O1", "1", "9", "B", Decimal("2"), T0), SaleLine("O2", "1", "9", "B", Decimal("1"), T0)])
    ingest_stock(sh, [StockLevel("9", "B", T0, available=Decimal("4"))])
    client = token_client(retailer)

    product = client.get("/api/v1/products/").json()["results"][0]
    assert [(k["provider"], k["external_id"]) for k in product["known_in"]] == [("square", "A")]
    assert product["known_in"][0]["match_reason"].startswith("new product")
    waiting = product["awaiting_match"]
    assert [(w["provider"], w["external_id"], w["held_sales_lines"], w["held_stock_levels"]) for w in waiting] == [
        ("shopify", "B", 2, 1)]
    assert "different barcodes" in waiting[0]["suggestion_reason"]
    store = client.get("/api/v1/stores/").json()["results"][0]
    assert sorted(k["provider"] for k in store["known_in"]) == ["shopify", "square"]
    assert client.get("/api/v1/stores/").json()["results"][0]["awaiting_match"] == []

    review.accept([ProductMapping.objects.get(external_id="B")], who="merchant")
    product = client.get(f"/api/v1/products/{product['id']}/").json()
    assert sorted(k["provider"] for k in product["known_in"]) == ["shopify", "square"]
    assert product["awaiting_match"] == []
    sales = client.get(f"/api/v1/transactions/?product={product['id']}").json()["results"]
    assert len(sales) == 2
    assert token_client(other_retailer).get("/api/v1/products/").json()["results"] == []
