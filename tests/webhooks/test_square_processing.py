"""Square topics: orders fetched in full through the resilient client (BatchRetrieveOrders, mocked only at the HTTP
boundary with ``responses``), inventory counts from the payload, catalog changes as a queued delta sync; failures
recorded on the row, retried with backoff, and replayable into exactly one set of transactions."""

import json
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from integrations.models import SyncRun, WebhookEvent
from integrations.webhooks.processing import process_event
from inventory.models import InventoryLevel, Transaction

from .helpers import deliver, square_event, square_request

pytestmark = pytest.mark.django_db
Status = WebhookEvent.Status
CLIENT = {"HTTP_MAX_ATTEMPTS": 1, "HTTP_BREAKER_FAILURES": 1000}


def batch_url():
    return f"{settings.SQUARE_BASE_URL}/v2/orders/batch-retrieve"


def square_order(order_id="ORD1", *, state="COMPLETED", updated_at="2026-09-01T10:05:00Z", qty="2"):
    return {
        "id": order_id, "location_id": "LOC1", "state": state, "version": 3,
        "created_at": "2026-09-01T10:00:00Z", "updated_at": updated_at, "closed_at": "2026-09-01T10:01:00Z",
        "line_items": [
            {"uid": "L1", "catalog_object_id": "VAR1", "quantity": qty,
             "base_price_money": {"amount": 350, "currency": "USD"}},
            {"uid": "L2", "catalog_object_id": "VAR2", "quantity": "1.5",
             "base_price_money": {"amount": 1000, "currency": "USD"}},
        ],
        "total_money": {"amount": 2200, "currency": "USD"},
    }


def order_updated(order_id="ORD1", **kw):
    return square_event("order.updated", {"order_updated": {
        "order_id": order_id, "version": 3, "location_id": "LOC1", "state": "COMPLETED",
        "created_at": "2026-09-01T10:00:00Z", "updated_at": "2026-09-01T10:05:00Z"}}, data_type="order_updated", **kw)


def process(event):
    with override_settings(**CLIENT):
        attempt = process_event(event.pk)
    event.refresh_from_db()
    return event, attempt


@responses.activate
def test_order_updated_fetches_the_order_and_ingests_its_lines(square_connection):
    responses.post(batch_url(), json={"orders": [square_order()]})
    event, _ = process(deliver("square", square_request(order_updated())))
    assert event.status == Status.PROCESSED, event.error
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {"order_ids": ["ORD1"], "location_id": "LOC1"}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer sq-token"
    got = {t.external_line_id: (t.quantity, t.unit_price, t.state) for t in Transaction.objects.all()}
    assert got == {"L1": (Decimal(2), Decimal("3.50"), "completed"), "L2": (Decimal("1.5"), Decimal(10), "completed")}


@responses.activate
def test_payment_event_ingests_its_order(square_connection):
    responses.post(batch_url(), json={"orders": [square_order("ORD9")]})
    payment = {"payment": {"id": "PAY1", "order_id": "ORD9", "location_id": "LOC1", "status": "COMPLETED"}}
    event, _ = process(deliver("square", square_request(square_event("payment.updated", payment))))
    assert event.status == Status.PROCESSED, event.error
    assert Transaction.objects.filter(external_order_id="ORD9").count() == 2


def test_inventory_count_updated_sets_levels_from_the_payload(square_connection):
    counts = {"inventory_counts": [
        {"catalog_object_id": "VAR1", "catalog_object_type": "ITEM_VARIATION", "state": "IN_STOCK",
         "location_id": "LOC1", "quantity": "7.5", "calculated_at": "2026-09-01T10:00:00Z", "is_estimated": False},
        {"catalog_object_id": "VAR1", "catalog_object_type": "ITEM_VARIATION", "state": "SOLD",
         "location_id": "LOC1", "quantity": "3", "calculated_at": "2026-09-01T10:00:00Z"},
    ]}
    event, _ = process(deliver("square", square_request(
        square_event("inventory.count.updated", counts, data_type="inventory_counts"))))
    assert event.status == Status.PROCESSED, event.error
    level = InventoryLevel.objects.get()
    assert level.available == Decimal("7.5") and level.product_mapping.external_id == "VAR1"
    # An older count delivered afterwards does not overwrite it.
    counts["inventory_counts"][0].update(quantity="1", calculated_at="2026-09-01T09:00:00Z")
    process(deliver("square", square_request(
        square_event("inventory.count.updated", counts, data_type="inventory_counts"))))
    level.refresh_from_db()
    assert level.available == Decimal("7.5")


def test_catalog_version_updated_queues_a_catalog_delta_sync(square_connection):
    obj = {"catalog_version": {"updated_at": "2026-09-01T10:00:00Z"}}
    event, _ = process(deliver("square", square_request(square_event("catalog.version.updated", obj))))
    assert event.status == Status.PROCESSED, event.error
    run = SyncRun.objects.get(connection=square_connection)
    assert (run.stream, run.trigger) == ("catalog", "webhook")
    # A second change while that run is pending does not queue another.
    again, _ = process(deliver("square", square_request(square_event("catalog.version.updated", obj))))
    assert again.status == Status.PROCESSED and SyncRun.objects.count() == 1


@responses.activate
def test_provider_failure_is_recorded_retried_with_backoff_then_replayed_into_one_set(square_connection):
    responses.post(batch_url(), status=503, json={"errors": [{"category": "API_ERROR", "code": "SERVICE_UNAVAILABLE"}]})
    event = deliver("square", square_request(order_updated()))
    with override_settings(WEBHOOK_MAX_ATTEMPTS=2, WEBHOOK_RETRY_BASE_SECONDS=10):
        event, attempt = process(event)
        assert event.status == Status.QUEUED and event.attempts == 1
        assert 5 <= attempt.retry_in <= 10 and event.next_attempt_at is not None
        assert "503" in event.error and "Traceback" in event.traceback
        event, attempt = process(event)
    assert event.status == Status.FAILED and event.attempts == 2 and attempt.retry_in is None
    assert not Transaction.objects.exists()

    responses.replace(responses.POST, batch_url(), json={"orders": [square_order()]})
    with override_settings(**CLIENT):
        call_command("replay_webhooks", "--failed", "--inline")
        call_command("replay_webhooks", "--ids", str(event.pk), "--inline")  # a second replay changes nothing
    event.refresh_from_db()
    assert event.status == Status.PROCESSED and event.error == "" and event.traceback == ""
    assert Transaction.objects.count() == 2


@responses.activate
def test_an_order_the_api_does_not_return_yet_is_retried_not_dropped(square_connection):
    responses.post(batch_url(), json={})
    event, attempt = process(deliver("square", square_request(order_updated("ORD-LATE"))))
    assert event.status == Status.QUEUED and attempt.retry_in and "ORD-LATE" in event.error


@responses.activate
def test_revoked_token_fails_without_retrying(square_connection):
    responses.post(batch_url(), status=401, json={"errors": [{"category": "AUTHENTICATION_ERROR",
                                                              "code": "ACCESS_TOKEN_REVOKED"}]})
    event, attempt = process(deliver("square", square_request(order_updated())))
    assert event.status == Status.FAILED and attempt.retry_in is None
    assert "sq-token" not in event.error + event.traceback


def test_replay_matches_an_event_whose_account_was_connected_later(retailer):
    from integrations.models import Connection

    event = deliver("square", square_request(square_event("catalog.version.updated", {"catalog_version": {}})))
    assert event.status == Status.UNMATCHED
    Connection.objects.create(retailer=retailer, provider="square", external_account_id=event.external_account_id,
                              status=Connection.Status.ACTIVE, access_token="t")
    call_command("replay_webhooks", "--unmatched", "--inline")
    event.refresh_from_db()
    assert event.status == Status.PROCESSED and event.connection is not None
