"""The receive path wakes one dispatcher per burst; the dispatcher hands every stored event to the workers.

Read off the real Redis broker queue (no worker runs here, so the messages stay where they were sent)."""

import base64
import json
import threading

import pytest
import responses
from django.conf import settings
from django.db import connection as db_connection
from django.test import override_settings

from integrations.models import WebhookEvent
from integrations.webhooks import dispatch
from shelfops.celery import app
from shelfops.redis_client import get_redis

from .helpers import deliver, shopify_order, shopify_request

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
Status = WebhookEvent.Status
QUEUE = "webhooks"  # where CELERY_TASK_ROUTES sends integrations.webhooks.* tasks: a Redis list on the broker


@pytest.fixture(autouse=True)
def empty_queue():
    app.control.purge()
    dispatch.clear_wake_flag()
    yield
    app.control.purge()
    dispatch.clear_wake_flag()


def queued_messages() -> list[tuple[str, list]]:
    """(task name, args) of every message waiting in the broker queue, oldest first."""
    broker = get_redis(settings.CELERY_BROKER_URL)
    messages = []
    for raw in reversed(broker.lrange(QUEUE, 0, -1)):  # kombu LPUSHes, workers take from the right
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        messages.append((message["headers"]["task"], args))
    return messages


def order_delivery(n: int):
    return shopify_request("orders/create", shopify_order(7000 + n, [(1, 501, 1, "2.00")],
                                                          updated_at="2026-09-01T10:00:00Z"))


def test_a_burst_of_deliveries_sends_one_wake_up_and_stores_every_event_received(shopify_connection):
    events = [deliver("shopify", order_delivery(n)) for n in range(20)]
    assert queued_messages() == [("integrations.webhooks.dispatch_received_events", [])]
    assert {e.status for e in events} == {Status.RECEIVED}


@override_settings(WEBHOOK_PROCESS_BATCH=2)
def test_the_dispatcher_sends_the_events_in_processing_batches_and_marks_them_queued(shopify_connection):
    events = [deliver("shopify", order_delivery(n)) for n in range(7)]
    app.control.purge()  # drop the wake-up; run the dispatcher here instead of in a worker

    assert dispatch.dispatch_received(batch=3) == 7  # three claims: 3 + 3 + 1, each sent two ids a task at most
    pks = [e.pk for e in events]
    assert queued_messages() == [("integrations.webhooks.process_batch", [chunk])
                                 for chunk in (pks[0:2], pks[2:3], pks[3:5], pks[5:6], pks[6:7])]
    rows = WebhookEvent.objects.filter(pk__in=[e.pk for e in events])
    assert {(r.status, r.enqueued_at is not None) for r in rows} == {(Status.QUEUED, True)}
    assert dispatch.dispatch_received() == 0  # nothing is sent twice


def test_a_delivery_that_finds_a_wake_up_pending_is_taken_by_that_dispatcher(shopify_connection):
    assert dispatch.wake_dispatcher() is True  # a dispatcher is due (its message is in the queue)
    late = deliver("shopify", order_delivery(1))  # stored after the wake-up: sends nothing of its own
    assert queued_messages() == [("integrations.webhooks.dispatch_received_events", [])]
    # The pending dispatcher clears the flag and then claims, so it sees the late row.
    assert dispatch.dispatch_received() == 1
    late.refresh_from_db()
    assert late.status == Status.QUEUED
    # With the flag cleared, the next delivery wakes a new dispatcher.
    deliver("shopify", order_delivery(2))
    assert [task for task, _ in queued_messages()].count("integrations.webhooks.dispatch_received_events") == 2


def test_an_unsent_wake_up_clears_the_flag_so_the_next_delivery_tries_the_broker_again(shopify_connection):
    from .test_end_to_end import broker_unreachable

    with broker_unreachable():
        stored = deliver("shopify", order_delivery(1))
    stored.refresh_from_db()
    assert stored.status == Status.RECEIVED  # kept for the next dispatcher or the sweep
    deliver("shopify", order_delivery(2))  # broker back: this one wakes a dispatcher at once, no TTL wait
    assert queued_messages() == [("integrations.webhooks.dispatch_received_events", [])]
    assert dispatch.dispatch_received() == 2  # and the dispatcher takes the earlier one too


def test_rows_whose_task_could_not_be_sent_go_back_to_received(shopify_connection):
    from .test_end_to_end import broker_unreachable

    events = [deliver("shopify", order_delivery(n)) for n in range(3)]
    with broker_unreachable():
        assert dispatch.dispatch_received() == 0
    assert set(WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).values_list("status", "enqueued_at")) == {
        (Status.RECEIVED, None)
    }


@pytest.mark.postgres
def test_two_dispatchers_at_once_never_claim_the_same_event(shopify_connection):
    WebhookEvent.objects.bulk_create(
        WebhookEvent(provider="shopify", event_id=f"bulk-{n}", topic="orders/create", connection=shopify_connection,
                     external_account_id=shopify_connection.external_account_id, body=b"{}")
        for n in range(300)
    )
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def claim_all(i):
        try:
            barrier.wait(timeout=30)
            while pks := dispatch.claim_received(7):
                claimed[i].extend(pks)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=claim_all, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not set(claimed[0]) & set(claimed[1])
    assert len(claimed[0]) + len(claimed[1]) == 300
    assert not WebhookEvent.objects.filter(status=Status.RECEIVED).exists()


@responses.activate
def test_a_batch_sends_an_event_to_retry_as_its_own_delayed_task(square_connection):
    from integrations.webhooks.tasks import process_webhook_batch

    from .helpers import square_event, square_request

    responses.post(f"{settings.SQUARE_BASE_URL}/v2/orders/batch-retrieve", json={"orders": []})  # not visible yet
    event = deliver("square", square_request(square_event("order.updated", {"order_updated": {
        "order_id": "LATE", "location_id": "LOC1"}}, data_type="order_updated")))
    app.control.purge()

    with override_settings(HTTP_MAX_ATTEMPTS=1):
        assert process_webhook_batch.run([event.pk]) == {Status.QUEUED: 1}

    assert queued_messages() == [("integrations.webhooks.process_event", [event.pk])]
    broker = get_redis(settings.CELERY_BROKER_URL)
    assert json.loads(broker.lrange(QUEUE, 0, -1)[0])["headers"]["eta"]  # delayed by the row's backoff


@override_settings(WEBHOOK_PROCESS_BATCH=2, WEBHOOK_DISPATCH_BATCH=3)
def test_the_dispatcher_task_sends_full_claims_and_processes_the_last_small_one_itself(shopify_connection):
    from integrations.webhooks.tasks import dispatch_received_events

    events = [deliver("shopify", order_delivery(n)) for n in range(5)]
    app.control.purge()

    assert dispatch_received_events() == 5  # claims of 3 (sent: 2 + 1 a task) and 2 (kept and processed here)
    pks = [e.pk for e in events]
    assert queued_messages() == [("integrations.webhooks.process_batch", [chunk]) for chunk in (pks[0:2], pks[2:3])]
    rows = {r.pk: r.status for r in WebhookEvent.objects.filter(pk__in=pks)}
    assert [rows[pk] for pk in pks] == [Status.QUEUED] * 3 + [Status.PROCESSED] * 2
    assert dispatch_received_events() == 0


@override_settings(WEBHOOK_PROCESS_BATCH=2, WEBHOOK_DISPATCH_BATCH=3)
def test_a_last_claim_larger_than_a_processing_batch_is_sent_not_kept(shopify_connection):
    events = [deliver("shopify", order_delivery(n)) for n in range(3)]
    app.control.purge()

    # One claim of 3 = the claim size: not the last one, sent (2 + 1); the next claim finds nothing.
    assert dispatch.claim_and_send(keep=2) == (3, [])
    pks = [e.pk for e in events]
    assert queued_messages() == [("integrations.webhooks.process_batch", [chunk]) for chunk in (pks[0:2], pks[2:3])]
