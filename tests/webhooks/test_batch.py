"""Batches of stored events (integrations/webhooks/batch.py) on real PostgreSQL: one provider fetch and one ingest
per connection and batch hook, each event its own outcome; a poisoned event fails alone; an event is processed
once however often its id is sent; newer wins within and across batches, as one by one."""

import json
from decimal import Decimal

import pytest
import responses
from django.conf import settings
from django.test import override_settings

from integrations.models import WebhookEvent
from integrations.webhooks.batch import process_batch
from integrations.webhooks.processing import process_event
from integrations.webhooks.replay import replay
from inventory.models import InventoryLevel, Transaction

from .helpers import deliver, shopify_order, shopify_request, square_event, square_request
from .test_concurrency import run_concurrently
from .test_square_processing import square_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
Status = WebhookEvent.Status
CLIENT = {"HTTP_MAX_ATTEMPTS": 1, "HTTP_BREAKER_FAILURES": 1000}


def statuses(events):
    rows = {e.pk: e for e in WebhookEvent.objects.filter(pk__in=[e.pk for e in events])}
    return [rows[e.pk].status for e in events]


def order_event(order_id, lines, updated_at, topic="orders/updated", **kw):
    return deliver("shopify", shopify_request(topic, shopify_order(order_id, lines, updated_at=updated_at, **kw)))


def shop_lines(order_id):
    return {t.external_line_id: t.quantity
            for t in Transaction.objects.filter(source="shopify", external_order_id=str(order_id))}


# --- a poisoned event fails alone --------------------------------------------------------------------------------

def test_an_event_ingest_refuses_fails_alone_and_its_neighbours_are_processed(shopify_connection):
    good = [order_event(9000 + n, [(n * 10 + 1, 501, 2, "4.00")], "2026-09-01T10:00:00Z") for n in range(4)]
    poisoned = deliver("shopify", shopify_request(
        "orders/create", shopify_order("9" * 300, [(99, 501, 1, "1.00")], updated_at="2026-09-01T10:00:00Z")))
    events = good[:2] + [poisoned] + good[2:]

    report = process_batch([e.pk for e in events])

    assert statuses(events) == [Status.PROCESSED] * 2 + [Status.FAILED] + [Status.PROCESSED] * 2
    poisoned.refresh_from_db()
    assert "ingest refused records" in poisoned.error and "order id" in poisoned.error
    assert poisoned.attempts == 1 and poisoned.next_attempt_at is None  # permanent: not retried
    assert report.retries == {}
    assert Transaction.objects.count() == 4  # the group was rolled back and each good event ran on its own
    assert not Transaction.objects.filter(external_line_id="99").exists()


def test_an_unreadable_payload_fails_alone_without_spoiling_the_group(shopify_connection):
    events = [order_event(9100 + n, [(n + 1, 501, 1, "2.00")], "2026-09-01T10:00:00Z") for n in range(3)]
    broken = shopify_order(9199, [(50, 501, 1, "2.00")], updated_at="2026-09-01T10:00:00Z")
    broken["line_items"][0]["current_quantity"] = "lots"
    events.insert(1, deliver("shopify", shopify_request("orders/create", broken)))

    process_batch([e.pk for e in events])

    assert statuses(events) == [Status.PROCESSED, Status.FAILED, Status.PROCESSED, Status.PROCESSED]
    kept = WebhookEvent.objects.filter(pk__in=[events[0].pk, events[2].pk, events[3].pk])
    # The three good ones went through the batch hook together (one ingest call, its counts shown on each), and
    # each outcome names its own order.
    counts = "batch of 3 orders: created 3, updated 0, unchanged 0, held 3"
    assert set(kept.values_list("outcome", flat=True)) == {f"order {9100 + n} ({counts})" for n in range(3)}
    assert "not a number" in WebhookEvent.objects.get(pk=events[1].pk).error


@responses.activate
def test_square_orders_are_fetched_in_one_call_and_an_invisible_order_is_retried_alone(square_connection):
    known = {f"ORD{n}": square_order(f"ORD{n}") for n in range(5)}

    def batch_retrieve(request):
        ids = json.loads(request.body)["order_ids"]
        return 200, {}, json.dumps({"orders": [known[i] for i in ids if i in known]})

    responses.add_callback(responses.POST, f"{settings.SQUARE_BASE_URL}/v2/orders/batch-retrieve",
                           callback=batch_retrieve, content_type="application/json")
    summary = {"version": 3, "location_id": "LOC1", "state": "COMPLETED"}
    events = [deliver("square", square_request(square_event(
        "order.updated", {"order_updated": {"order_id": oid, **summary}}, data_type="order_updated")))
        for oid in ["ORD0", "ORD1", "LATE", "ORD2", "ORD3", "ORD4"]]
    events.append(deliver("square", square_request(square_event(  # the same order as a payment: fetched once
        "payment.updated", {"payment": {"id": "P1", "order_id": "ORD0", "location_id": "LOC1"}}))))
    events.append(deliver("square", square_request(square_event("order.updated", {"order_updated": {}}))))

    with override_settings(**CLIENT):
        report = process_batch([e.pk for e in events])

    assert len(responses.calls) == 1
    assert json.loads(responses.calls[0].request.body) == {
        "order_ids": ["ORD0", "ORD1", "LATE", "ORD2", "ORD3", "ORD4"], "location_id": "LOC1"}
    assert statuses(events) == [Status.PROCESSED] * 2 + [Status.QUEUED] + [Status.PROCESSED] * 4 + [Status.FAILED]
    late = WebhookEvent.objects.get(pk=events[2].pk)
    assert "OrderNotYetVisible" in late.error and late.next_attempt_at is not None
    assert list(report.retries) == [late.pk]  # only it is tried again, on its own
    assert Transaction.objects.filter(source="square").count() == 10  # five orders, two lines each


@responses.activate
def test_a_provider_outage_retries_each_event_of_the_group_without_asking_once_per_event(square_connection):
    responses.post(f"{settings.SQUARE_BASE_URL}/v2/orders/batch-retrieve", status=503, json={"errors": []})
    summary = {"version": 3, "location_id": "LOC1", "state": "COMPLETED"}
    events = [deliver("square", square_request(square_event(
        "order.updated", {"order_updated": {"order_id": f"ORD{n}", **summary}}, data_type="order_updated")))
        for n in range(4)]

    with override_settings(**CLIENT):
        report = process_batch([e.pk for e in events])

    assert len(responses.calls) == 1
    assert statuses(events) == [Status.QUEUED] * 4
    assert sorted(report.retries) == sorted(e.pk for e in events)
    assert all("ProviderUnavailable" in e.error for e in WebhookEvent.objects.filter(pk__in=report.retries))


# --- exactly once ------------------------------------------------------------------------------------------------

def test_an_event_sent_twice_in_a_batch_or_again_later_is_processed_once(shopify_connection):
    events = [order_event(9200 + n, [(n + 1, 501, 2, "4.00")], "2026-09-01T10:00:00Z") for n in range(3)]
    pks = [e.pk for e in events]

    first = process_batch(pks + pks[:2])  # the same id twice in one batch
    again = process_batch(pks)  # a redelivered batch, or the sweep's copy of it

    assert first.statuses == {pk: Status.PROCESSED for pk in pks}
    assert again.statuses == {} and sorted(again.skipped) == sorted(pks)
    assert set(WebhookEvent.objects.filter(pk__in=pks).values_list("attempts", flat=True)) == {1}
    assert Transaction.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_workers_given_overlapping_batches_at_once_process_each_event_once(shopify_connection):
    events = [order_event(9300 + n, [(n + 1, 501, 2, "4.00")], "2026-09-01T10:00:00Z") for n in range(40)]
    pks = [e.pk for e in events]
    halves = [pks[:30], pks[10:]]  # 20 events in both batches

    reports = run_concurrently(2, lambda i: process_batch(halves[i]))

    done = [pk for report in reports for pk in report.statuses]
    assert sorted(done) == sorted(pks)  # each event settled by exactly one of the two
    assert set(WebhookEvent.objects.filter(pk__in=pks).values_list("status", "attempts")) == {(Status.PROCESSED, 1)}
    assert Transaction.objects.count() == 40


# --- newer wins --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("newer_first", [True, False])
def test_two_versions_of_an_order_in_one_batch_end_as_one_by_one_with_the_newer_winning(shopify_connection,
                                                                                          newer_first):
    older = ("2026-09-01T10:00:00Z", [(1, 501, 2, "4.00"), (2, 502, 1, "1.00")])
    newer = ("2026-09-01T11:00:00Z", [(1, 501, 5, "4.00")])  # line 2 removed by an edit
    versions = [newer, older] if newer_first else [older, newer]
    one_by_one = [order_event(9400, lines, updated) for updated, lines in versions]
    batched = [order_event(9401, lines, updated) for updated, lines in versions]

    for event in one_by_one:
        process_event(event.pk)
    process_batch([e.pk for e in batched])

    assert statuses(batched) == [Status.PROCESSED, Status.PROCESSED]
    assert shop_lines(9401)["1"] == Decimal(5)  # the newer version's quantity, whatever the order of arrival
    assert shop_lines(9401) == shop_lines(9400)


def test_an_older_version_in_a_later_batch_does_not_overwrite_the_newer_as_one_by_one(shopify_connection):
    for order_id, run in ((9500, lambda e: process_event(e.pk)), (9501, lambda e: process_batch([e.pk]))):
        run(order_event(order_id, [(1, 501, 5, "4.00")], "2026-09-01T11:00:00Z"))
        run(order_event(order_id, [(1, 501, 2, "4.00"), (2, 502, 1, "1.00")], "2026-09-01T10:00:00Z"))
    assert shop_lines(9501)["1"] == Decimal(5)
    assert shop_lines(9501) == shop_lines(9500)


def test_stock_levels_in_one_batch_keep_the_newest_reading(shopify_connection):
    def level(available, at):
        return deliver("shopify", shopify_request("inventory_levels/update", {
            "inventory_item_id": 808, "location_id": 7001, "available": available, "updated_at": at}))

    events = [level(3, "2026-09-01T12:00:00Z"), level(9, "2026-09-01T11:00:00Z"), level(4, "2026-09-01T10:00:00Z")]
    process_batch([e.pk for e in events])
    assert statuses(events) == [Status.PROCESSED] * 3
    assert list(InventoryLevel.objects.values_list("available", flat=True)) == [Decimal(3)]


def test_square_counts_in_one_batch_keep_the_newest_and_an_unreadable_one_fails_alone(square_connection):
    def counts(quantity, at):
        return deliver("square", square_request(square_event("inventory.count.updated", {"inventory_counts": [
            {"catalog_object_id": "VAR1", "catalog_object_type": "ITEM_VARIATION", "state": "IN_STOCK",
             "location_id": "LOC1", "quantity": quantity, "calculated_at": at}]}, data_type="inventory_counts")))

    broken = deliver("square", square_request(square_event("inventory.count.updated", {"inventory_counts": [
        {"catalog_object_id": "VAR1", "state": "IN_STOCK", "quantity": "1"}]}, data_type="inventory_counts")))
    sold_only = deliver("square", square_request(square_event("inventory.count.updated", {"inventory_counts": [
        {"catalog_object_id": "VAR1", "catalog_object_type": "ITEM_VARIATION", "state": "SOLD", "location_id": "LOC1",
         "quantity": "1", "calculated_at": "2026-09-01T12:30:00Z"}]}, data_type="inventory_counts")))
    events = [counts("7", "2026-09-01T12:00:00Z"), broken, counts("2", "2026-09-01T11:00:00Z"), sold_only]

    process_batch([e.pk for e in events])

    assert statuses(events) == [Status.PROCESSED, Status.FAILED, Status.PROCESSED, Status.IGNORED]
    assert "location_id" in WebhookEvent.objects.get(pk=broken.pk).error
    assert list(InventoryLevel.objects.values_list("available", flat=True)) == [Decimal(7)]


def test_product_events_in_one_batch_are_ingested_together(shopify_connection):
    from inventory.models import ProductMapping

    events = [deliver("shopify", shopify_request("products/update", {"id": 70 + n, "title": f"Thing {n}", "variants": [
        {"id": 600 + n, "title": "Default Title", "sku": f"T-{n}", "inventory_item_id": 9900 + n,
         "updated_at": "2026-09-01T10:00:00Z"}]})) for n in range(3)]
    process_batch([e.pk for e in events])
    assert set(WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).values_list("status", "outcome")) == {
        (Status.PROCESSED, "batch of 3 variants: created 3, updated 0, unchanged 0, held 0")}
    assert set(ProductMapping.objects.values_list("external_id", flat=True)) == {"600", "601", "602"}


# --- per event as before -----------------------------------------------------------------------------------------

def test_a_failed_event_of_a_batch_is_replayed_on_its_own(shopify_connection):
    broken = shopify_order(9600, [(1, 501, 1, "2.00")], updated_at="2026-09-01T10:00:00Z")
    broken["line_items"][0]["current_quantity"] = "lots"
    event = deliver("shopify", shopify_request("orders/create", broken))
    neighbour = order_event(9601, [(1, 501, 1, "2.00")], "2026-09-01T10:00:00Z")
    process_batch([event.pk, neighbour.pk])
    assert statuses([event, neighbour]) == [Status.FAILED, Status.PROCESSED]

    report = replay(WebhookEvent.objects.filter(pk=event.pk), inline=True)

    assert report.processed == {event.pk: Status.FAILED}  # still unreadable; the neighbour is not touched
    assert WebhookEvent.objects.get(pk=neighbour.pk).attempts == 1


def test_an_event_without_a_batch_hook_keeps_its_place_in_receipt_order(shopify_connection):
    before = order_event(9700, [(1, 501, 1, "2.00")], "2026-09-01T10:00:00Z")
    uninstall = deliver("shopify", shopify_request("app/uninstalled", {"id": 1, "domain": "acme-test"}))
    after = order_event(9701, [(1, 501, 1, "2.00")], "2026-09-01T10:00:00Z")
    unknown = WebhookEvent.objects.create(provider="shopify", event_id="x-1", topic="carts/update", body=b"{}",
                                          connection=shopify_connection, status=Status.QUEUED)

    process_batch([before.pk, uninstall.pk, after.pk, unknown.pk])

    assert statuses([before, uninstall, after, unknown]) == [Status.PROCESSED, Status.PROCESSED, Status.IGNORED,
                                                             Status.IGNORED]
    # As one by one: the order received after the uninstall finds the connection disconnected.
    assert WebhookEvent.objects.get(pk=after.pk).outcome == "connection is disconnected"
    assert set(Transaction.objects.values_list("external_order_id", flat=True)) == {"9700"}


# --- two batches at once ---------------------------------------------------------------------------------------

def test_groups_run_in_the_same_order_whatever_order_their_events_arrived_in(shopify_connection, monkeypatch):
    """Two batches running at once take their locks group by group in one order (no deadlock between them)."""
    from integrations.webhooks import batch as batch_module

    ran = []
    original = batch_module._Batch.run_group

    def spy(self, hook, contexts, receiver):
        ran.append(hook.__name__)
        return original(self, hook, contexts, receiver)

    monkeypatch.setattr(batch_module._Batch, "run_group", spy)

    def level(n):
        return deliver("shopify", shopify_request("inventory_levels/update", {
            "inventory_item_id": 800 + n, "location_id": 7001, "available": n, "updated_at": "2026-09-01T12:00:00Z"}))

    first = [level(1), order_event(9800, [(1, 501, 1, "2.00")], "2026-09-01T10:00:00Z")]
    second = [order_event(9801, [(1, 502, 1, "2.00")], "2026-09-01T10:00:00Z"), level(2)]
    process_batch([e.pk for e in first])
    process_batch([e.pk for e in second])

    assert ran[:2] == ran[2:] and sorted(ran[:2]) == ["on_inventory_levels_batch", "on_orders_batch"]
    assert statuses(first + second) == [Status.PROCESSED] * 4


def test_a_group_that_deadlocks_is_retried_later_not_run_one_by_one(shopify_connection, monkeypatch):
    """After a deadlock the other batch still waits for this one's locks: running the events one by one in the
    same transaction would deadlock again, so they are queued for a retry and the batch goes on."""
    import psycopg
    from django.db import OperationalError

    from integrations.webhooks.base import receiver_for

    def deadlocked(contexts):
        try:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        except psycopg.Error as exc:
            raise OperationalError("deadlock detected") from exc

    receiver = receiver_for("shopify")
    monkeypatch.setitem(receiver.batch_handlers, "orders/updated", deadlocked)
    events = [order_event(9900 + n, [(1, 501, 1, "2.00")], "2026-09-01T10:00:00Z") for n in range(3)]

    report = process_batch([e.pk for e in events])

    assert statuses(events) == [Status.QUEUED] * 3
    assert set(report.retries) == {e.pk for e in events}
    assert not Transaction.objects.exists()  # the per-event handlers did not run
    assert {e.next_attempt_at is not None for e in WebhookEvent.objects.filter(pk__in=[e.pk for e in events])} == {
        True}
