"""End to end through a real Celery worker process: signed deliveries in, transactions and inventory levels out;
a broker that is down at receipt loses nothing (the sweep enqueues the stored event later)."""

import socket
from contextlib import contextmanager
from decimal import Decimal

import pytest

from integrations.models import WebhookEvent
from integrations.webhooks.tasks import sweep_stale_events
from inventory.models import InventoryLevel, Transaction

from ..processes import wait_until
from .helpers import deliver, shopify_order, shopify_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
Status = WebhookEvent.Status


def status_of(event):
    return WebhookEvent.objects.filter(pk=event.pk).values_list("status", flat=True).first()


def test_shopify_deliveries_become_transactions_and_levels_in_the_worker(shopify_connection, celery_worker):
    order = shopify_order(9001, [(1, 501, 2, "4.50"), (2, 502, 1, "10.00")], updated_at="2026-09-01T10:00:00Z")
    product = {"id": 77, "title": "Oat Milk", "variants": [{"id": 501, "sku": "OAT", "inventory_item_id": 8801}]}
    level = {"inventory_item_id": 8801, "location_id": 7001, "available": 12, "updated_at": "2026-09-01T12:00:00Z"}
    events = [deliver("shopify", shopify_request("orders/create", order)),
              deliver("shopify", shopify_request("products/update", product))]
    wait_until(lambda: all(status_of(e) == Status.PROCESSED for e in events), timeout=60,
               what="the worker to process the order and product events")
    events.append(deliver("shopify", shopify_request("inventory_levels/update", level)))
    wait_until(lambda: status_of(events[-1]) == Status.PROCESSED, timeout=60, what="the level event")
    assert Transaction.objects.filter(external_order_id="9001").count() == 2
    assert InventoryLevel.objects.get().available == Decimal(12)
    # A provider retry of the order after processing is a duplicate: still one set of lines.
    deliver("shopify", shopify_request("orders/create", order, event_id=events[0].event_id))
    assert Transaction.objects.count() == 2 and WebhookEvent.objects.count() == 3


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


@contextmanager
def broker_unreachable():
    """Point this (web) process's Celery app at a broker port nobody listens on: a real refused connection.
    Yields the port."""
    from shelfops.celery import app

    saved = app.conf.broker_url, app.conf.broker_transport_options

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None

    port = closed_port()
    app.conf.broker_url, app.conf.broker_transport_options = f"redis://127.0.0.1:{port}/0", {}
    reset_pools()
    try:
        yield port
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        reset_pools()


def broker_connects(monkeypatch, port: int) -> list:
    """Record every TCP connect this process makes to ``port`` (the real connect still happens)."""
    attempts = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        if isinstance(address, tuple) and address[1:2] == (port,):
            attempts.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def test_broker_down_at_receipt_event_is_stored_and_later_processed_by_the_sweep(shopify_connection, celery_worker):
    order = shopify_order(9002, [(1, 501, 3, "4.50")], updated_at="2026-09-01T10:00:00Z")
    with broker_unreachable() as port, pytest.MonkeyPatch.context() as patch:
        attempts = broker_connects(patch, port)
        event = deliver("shopify", shopify_request("orders/create", order))  # still answered 200
    # The enqueue gave up after one refused connect. kombu's default retry loop connects again and again (three
    # attempts over ~6 s), holding the request past Shopify's 5 s limit; counted, not timed, so load cannot flake it.
    assert len(attempts) == 1
    event.refresh_from_db()
    assert event.status == Status.RECEIVED and event.enqueued_at is None
    assert not Transaction.objects.exists()

    sweep_stale_events.delay()  # what beat does every minute
    wait_until(lambda: status_of(event) == Status.PROCESSED, timeout=60, what="the sweep to get the event processed")
    assert Transaction.objects.get().quantity == Decimal(3)
