"""Square streams through the real engine, client and ingest, with Square's HTTP answers from ``responses``:
request shapes per provider-facts 1.4, counts, cursors, deletions, cancellations, resume after a failure."""

import json
from decimal import Decimal

import pytest
import responses

from integrations.models import SyncCursor, SyncRun
from integrations.sync import engine, services
from inventory.models import ProductMapping, StoreMapping, Transaction

BASE = "https://square.example.test"


@pytest.fixture(autouse=True)
def square_at_test_host(settings):
    settings.SQUARE_BASE_URL = BASE
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0
    settings.HTTP_BACKOFF_MAX_SECONDS = 0.0


def run(connection, stream, *, full=False):
    queued = services.create_run(connection, stream, full=full, trigger="command")
    return engine.execute(queued.pk)


def bodies(rsps, path):
    return [json.loads(call.request.body) for call in rsps.calls if call.request.url.endswith(path)]


def variation(var_id, item_id, updated, **data):
    return {"type": "ITEM_VARIATION", "id": var_id, "updated_at": updated, "is_deleted": False,
            "item_variation_data": {"item_id": item_id, **data}}


LOCATIONS = {"locations": [{"id": f"L{n:02d}", "name": f"Store {n}", "status": "ACTIVE"} for n in range(12)]}


def test_catalog_initial_load_then_delta_with_deletions(square_connection):
    item = {"type": "ITEM", "id": "IT-1", "updated_at": "2026-10-01T00:00:00Z", "item_data": {"name": "Cold Brew"}}
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/catalog/search", json={
            "objects": [variation("V1", "IT-1", "2026-10-01T00:00:00Z", name="Large", sku="CB-L")],
            "related_objects": [item], "cursor": "page-2"})
        rsps.post(f"{BASE}/v2/catalog/search", json={
            "objects": [variation("V2", "IT-1", "2026-10-02T00:00:00Z", name="Small", upc="012345678905")],
            "related_objects": [item]})
        first = run(square_connection, "catalog")
        first_bodies = bodies(rsps, "/v2/catalog/search")
    assert first.status == "succeeded", first.error
    assert (first.pages, first.records_seen, first.records_created) == (2, 2, 2)
    assert first_bodies[0]["object_types"] == ["ITEM", "ITEM_VARIATION"]
    assert "begin_time" not in first_bodies[0] and "include_deleted_objects" not in first_bodies[0]
    assert first_bodies[1]["cursor"] == "page-2"
    # Cursor: newest updated_at seen (Oct 2) minus the 5-minute overlap.
    assert SyncCursor.objects.get(connection=square_connection, stream="catalog").value["updated_at"] == (
        "2026-10-01T23:55:00.000Z")

    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/catalog/search", json={"objects": [
            {**variation("V1", "IT-1", "2026-10-03T00:00:00Z", name="Large", sku="CB-L"), "is_deleted": True},
            variation("V2", "IT-1", "2026-10-02T00:00:00Z", name="Small", upc="012345678905"),  # overlap re-read
        ], "related_objects": [item]})
        second = run(square_connection, "catalog")
        (delta,) = bodies(rsps, "/v2/catalog/search")
    assert delta["begin_time"] == "2026-10-01T23:55:00.000Z" and delta["include_deleted_objects"] is True
    assert (second.records_seen, second.records_created, second.records_unchanged) == (2, 0, 1)
    assert second.cursor_before["updated_at"] == "2026-10-01T23:55:00.000Z"
    gone = ProductMapping.objects.get(external_id="V1")
    # Deleted at source, with when (Square's timestamp of the deleting version); kept, never hard-deleted.
    assert gone.deleted_at_source is True and gone.deleted_at_source_at.isoformat() == "2026-10-03T00:00:00+00:00"
    assert ProductMapping.objects.get(external_id="V2").deleted_at_source_at is None
    assert ProductMapping.objects.get(external_id="V2").barcode == "012345678905"


def order(order_id, location, updated, state="COMPLETED", quantity="1.5"):
    return {"id": order_id, "location_id": location, "state": state, "created_at": "2026-10-01T00:00:00Z",
            "updated_at": updated, "line_items": [
                {"uid": f"{order_id}-a", "quantity": quantity, "catalog_object_id": "V1",
                 "base_price_money": {"amount": 1250, "currency": "USD"}}]}


def test_orders_chunk_locations_by_ten_sort_by_updated_at_and_propagate_cancellations(square_connection):
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/v2/locations", json=LOCATIONS)
        rsps.post(f"{BASE}/v2/orders/search", json={"orders": [order("O1", "L00", "2026-10-05T10:00:00Z")],
                                                    "cursor": "c2"})
        rsps.post(f"{BASE}/v2/orders/search", json={"orders": [order("O2", "L03", "2026-10-05T11:00:00Z")]})
        rsps.post(f"{BASE}/v2/orders/search", json={"orders": [order("O3", "L11", "2026-10-05T09:00:00Z")]})
        first = run(square_connection, "orders")
        sent = bodies(rsps, "/v2/orders/search")
    assert first.status == "succeeded", first.error
    assert [len(b["location_ids"]) for b in sent] == [10, 10, 2]
    assert sent[0]["query"]["sort"] == {"sort_field": "UPDATED_AT", "sort_order": "ASC"}
    assert "filter" not in sent[0]["query"] and sent[0]["limit"] == 1000
    assert sent[1]["cursor"] == "c2" and sent[1]["location_ids"] == sent[0]["location_ids"]
    assert Transaction.objects.count() == 3
    line = Transaction.objects.get(external_order_id="O1")
    assert line.quantity == Decimal("1.5") and line.unit_price == Decimal("12.50") and line.currency == "USD"
    cursor = SyncCursor.objects.get(connection=square_connection, stream="orders").value
    assert cursor["updated_at"] == "2026-10-02T11:00:00.000Z"  # newest (Oct 5 11:00) minus the 72 h overlap

    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/v2/locations", json=LOCATIONS)
        rsps.post(f"{BASE}/v2/orders/search", json={"orders": [
            order("O1", "L00", "2026-10-05T10:00:00Z"),  # unchanged, read again by the overlap
            order("O2", "L03", "2026-10-06T08:00:00Z", state="CANCELED")]})
        rsps.post(f"{BASE}/v2/orders/search", json={"orders": []})
        second = run(square_connection, "orders")
        sent = bodies(rsps, "/v2/orders/search")
    assert sent[0]["query"]["filter"] == {"date_time_filter": {"updated_at": {"start_at": "2026-10-02T11:00:00.000Z"}}}
    assert (second.records_seen, second.records_created, second.records_updated, second.records_unchanged) == (
        2, 0, 1, 1)
    assert Transaction.objects.get(external_order_id="O2").state == "cancelled"
    assert Transaction.objects.count() == 3


def count(var_id, location, state, quantity, at):
    return {"catalog_object_id": var_id, "catalog_object_type": "ITEM_VARIATION", "state": state,
            "location_id": location, "quantity": quantity, "calculated_at": at}


def test_inventory_run_that_fails_mid_way_resumes_from_its_page_token_without_duplicates(square_connection):
    page1 = {"counts": [count("V1", "L00", "IN_STOCK", "4.25", "2026-10-07T00:00:00Z")], "cursor": "inv-2"}
    page2 = {"counts": [count("V2", "L00", "IN_STOCK", "3", "2026-10-06T00:00:00Z")]}
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", json=page1)
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", status=400, json={"errors": [
            {"category": "INVALID_REQUEST_ERROR", "code": "BAD_REQUEST", "detail": "injected"}]})
        failed = run(square_connection, "inventory")
    assert failed.status == "failed" and ("400" in failed.error or "BAD_REQUEST" in failed.error)
    saved = SyncCursor.objects.get(connection=square_connection, stream="inventory").value
    assert saved["page"] == "inv-2" and saved["updated_at"] is None  # counts come newest first: token, no bound

    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", json=page2)
        resumed = run(square_connection, "inventory")
        (body,) = bodies(rsps, "/v2/inventory/counts/batch-retrieve")
    assert resumed.status == "succeeded", resumed.error
    assert body["cursor"] == "inv-2" and body["limit"] == 1000
    assert resumed.cursor_before == saved
    from inventory.models import InventoryLevel

    assert InventoryLevel.objects.count() == 2
    assert InventoryLevel.objects.get(product_mapping__external_id="V1").available == Decimal("4.25")
    final = SyncCursor.objects.get(connection=square_connection, stream="inventory").value
    assert final == {"updated_at": "2026-10-06T23:55:00.000Z", "page": None,
                     "high_water": "2026-10-07T00:00:00.000Z"}


def test_locations_create_store_mappings(square_connection):
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/v2/locations", json=LOCATIONS)
        result = run(square_connection, "locations")
    assert result.status == "succeeded" and result.records_created == 12
    assert StoreMapping.objects.filter(external_account_id="MERCHANT-1").count() == 12


def test_inactive_connection_fails_the_run_with_a_reason(square_connection):
    square_connection.status = "needs_reconnect"
    square_connection.save()
    result = run(square_connection, "locations")
    assert result.status == SyncRun.Status.FAILED and "needs reconnect" in result.error


def refund_order(order_id, source_order, updated, quantity="1"):
    """An itemized refund as Square stores it: its own order whose returns give back lines of the sold order."""
    return {"id": order_id, "location_id": "L00", "state": "COMPLETED", "created_at": "2026-10-06T00:00:00Z",
            "updated_at": updated, "returns": [{
                "uid": "ret-1", "source_order_id": source_order, "return_line_items": [{
                    "uid": f"{order_id}-r", "source_line_item_uid": f"{source_order}-a", "quantity": quantity,
                    "catalog_object_id": "V1", "base_price_money": {"amount": 1250, "currency": "USD"}}]}]}


def test_a_refund_is_one_negative_line_linked_to_the_sold_line_however_often_it_is_read(square_connection):
    sold = order("O1", "L00", "2026-10-05T10:00:00Z", quantity="2")
    refund = refund_order("R1", "O1", "2026-10-06T10:00:00Z")
    for _ in range(2):  # the second run re-reads both orders (overlap), as a redelivery would
        with responses.RequestsMock() as rsps:
            rsps.get(f"{BASE}/v2/locations", json={"locations": [{"id": "L00"}]})
            rsps.post(f"{BASE}/v2/orders/search", json={"orders": [sold, refund]})
            result = run(square_connection, "orders")
        assert result.status == "succeeded", result.error
    lines = Transaction.objects.filter(retailer=square_connection.retailer).order_by("external_order_id")
    assert [(t.external_order_id, t.quantity, t.state) for t in lines] == [
        ("O1", Decimal("2"), "completed"), ("R1", Decimal("-1"), "refunded")]
    given_back = lines.get(external_order_id="R1")
    assert (given_back.refund_of_order_id, given_back.refund_of_line_id) == ("O1", "O1-a")
    assert given_back.unit_price == Decimal("12.50")
    # The API shows it once, with its link to the sold line.
    from rest_framework.test import APIClient

    from inventory.models import ApiToken

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(square_connection.retailer, 'refunds')[1]}")
    rows = [r for r in api.get("/api/v1/transactions/").json()["results"] if r["external_order_id"] == "R1"]
    assert [(r["quantity"], r["state"], r["refund_of_order_id"], r["refund_of_line_id"]) for r in rows] == [
        ("-1.0000", "refunded", "O1", "O1-a")]
