"""The API over rows written by the real ingest path: a client following changes sees new sales, edits and
cancellations exactly once each, and nothing for a re-delivery that changed nothing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from inventory.ingest import ingest_items, ingest_locations, ingest_sales
from inventory.records import Item, Location, SaleLine, Source

from .conftest import token_client

pytestmark = pytest.mark.django_db
SOLD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def sale(order, line, *, state="completed", updated=SOLD, item="V1"):
    return SaleLine(order_external_id=order, line_external_id=line, location_external_id="L1",
                    item_external_id=item, quantity=Decimal("2"), occurred_at=SOLD, sku=f"SKU-{item}",
                    unit_price=Decimal("3.50"), currency="USD", order_updated_at=updated, state=state)


def changes(client, url):
    body = client.get(url).json()
    return [(r["external_order_id"], r["external_line_id"], r["state"]) for r in body["results"]], body["next"]


def test_following_changes_over_ingested_sales(retailer):
    source = Source(retailer_id=retailer.pk, provider="square", external_account_id="MERCHANT-1")
    ingest_locations(source, [Location(external_id="L1", name="Main street")])
    ingest_items(source, [Item(external_id="V1", sku="SKU-V1", barcode="0001", name="Tea")])
    ingest_sales(source, [sale("O1", "a"), sale("O1", "b"), sale("O2", "a")])
    client = token_client(retailer)

    seen, resume = changes(client, "/api/v1/transactions/?updated_since=2000-01-01T00:00:00Z")
    assert sorted(seen) == [("O1", "a", "completed"), ("O1", "b", "completed"), ("O2", "a", "completed")]
    assert resume

    # The same delivery again: nothing changed, so nothing new for the client.
    ingest_sales(source, [sale("O1", "a"), sale("O1", "b"), sale("O2", "a")])
    assert changes(client, resume)[0] == []

    # A cancellation of O2 arrives: exactly that line comes round again, with its new state.
    ingest_sales(source, [sale("O2", "a", state="cancelled", updated=SOLD + timedelta(hours=1))])
    later, _ = changes(client, resume)
    assert later == [("O2", "a", "cancelled")]


def test_a_held_sale_reaches_its_product_after_the_client_maps_it(retailer):
    source = Source(retailer_id=retailer.pk, provider="square", external_account_id="MERCHANT-1")
    ingest_locations(source, [Location(external_id="L1", name="Main street")])
    ingest_items(source, [Item(external_id="V1", sku="SKU-V1", barcode="0001", name="Tea")])
    ingest_sales(source, [sale("O9", "a", item="V-UNKNOWN")])
    client = token_client(retailer)

    unmapped = client.get("/api/v1/mappings/?mapped=false").json()["results"]
    assert [m["external_id"] for m in unmapped] == ["V-UNKNOWN"]
    product = client.get("/api/v1/products/?sku=SKU-V1").json()["results"][0]["id"]
    assert client.get(f"/api/v1/transactions/?product={product}").json()["results"] == []

    answer = client.patch(f"/api/v1/mappings/{unmapped[0]['id']}/", {"product": product}, format="json")
    assert answer.status_code == 200
    lines = client.get(f"/api/v1/transactions/?product={product}").json()["results"]
    assert [(r["external_order_id"], r["product"]) for r in lines] == [("O9", product)]
