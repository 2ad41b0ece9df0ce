"""End to end with the sandbox as the sender: the sandbox signs its real Square and Shopify payloads and POSTs them
to the portal (pytest-django's ``live_server``), the view verifies and stores them, a real Celery worker process
processes them (Square orders fetched back from the sandbox through the resilient client) into transactions and
inventory levels, on PostgreSQL. Nothing in between is built by the test: payloads, headers, signatures, retries and
duplicate deliveries are the sandbox's (sandbox/webhooks.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.models import ApiCallLog, WebhookEvent, WebhookRejection
from integrations.providers.square.webhooks import notification_url
from integrations.webhooks.processing import FINAL
from inventory.models import InventoryLevel, ProductMapping, Transaction
from sandbox.shopify.objects import legacy_id
from sandbox.square.objects import SquareIds
from tests.processes import wait_until
from tests.sync.e2e_helpers import sandbox_connection, start_worker

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = WebhookEvent.Status


@pytest.fixture
def sandbox(sandbox_server, live_server, settings):
    """The sandbox delivering to the live portal. Square signs the notification URL byte for byte: the portal
    derives it from BASE_URL (SQUARE_WEBHOOK_NOTIFICATION_URL empty), the sandbox registers the same string."""
    settings.BASE_URL = live_server.url
    settings.SQUARE_WEBHOOK_NOTIFICATION_URL = ""
    sandbox_server.set_webhook_target(live_server.url)
    assert sandbox_server.square_webhook_url == notification_url()
    # The same app credentials on both sides (the sandbox read them from settings when it started).
    assert sandbox_server.config.square_signature_key == settings.SQUARE_WEBHOOK_SIGNATURE_KEY
    assert sandbox_server.config.shopify_client_secret == settings.SHOPIFY_CLIENT_SECRET
    return sandbox_server


@pytest.fixture
def worker(sandbox):
    from integrations.webhooks.dispatch import clear_wake_flag
    from shelfops.celery import app

    app.control.purge()  # messages left in the broker by an earlier test name rows that no longer exist
    clear_wake_flag()  # and a purged wake-up must not hold back the first delivery
    worker = start_worker(sandbox, concurrency=2)
    yield worker
    worker.stop()


def settled(provider: str, count: int):
    """The provider's stored events once there are ``count`` of them and every one is final, else None."""
    rows = list(WebhookEvent.objects.filter(provider=provider).order_by("pk"))
    return rows if len(rows) >= count and all(r.status in FINAL for r in rows) else None


def wait_processed(provider: str, count: int, what: str) -> list[WebhookEvent]:
    rows = wait_until(lambda: settled(provider, count), timeout=60, interval=0.2, what=what)
    assert len(rows) == count, [(r.topic, r.event_id) for r in rows]
    assert all(r.status == Status.PROCESSED for r in rows), [(r.topic, r.status, r.error) for r in rows]
    return rows


def level(retailer, location_id: str, *, item_id: str = "", secondary_id: str = "") -> InventoryLevel:
    product = {"product_mapping__secondary_id": secondary_id} if secondary_id else {
        "product_mapping__external_id": item_id}
    return InventoryLevel.objects.get(retailer=retailer, store_mapping__external_id=location_id, **product)


def assert_sale_lines(lines, expected):
    """expected: (item external id, sku or "", quantity, price in cents) per line, in line order."""
    got = [(t.product_mapping.external_id, t.quantity, t.unit_price, t.state, t.currency) for t in lines]
    want = [(item, Decimal(qty), Decimal(cents) / 100, "completed", "USD") for item, _, qty, cents in expected]
    assert got == want
    for t, (_, sku, _, _) in zip(lines, expected, strict=True):
        assert not sku or t.sku == sku


# --- Square --------------------------------------------------------------------------------------------------------
def test_square_sale_and_stock_change_become_transactions_and_levels(sandbox, worker, retailer):
    connection = sandbox_connection(sandbox, retailer, "square")
    merchant, ids = sandbox.merchant("square"), SquareIds(sandbox.merchant("square"))
    items = [(3, 2), (5, 1)]
    before = {v: merchant.stock(v, 1).on_hand for v, _ in items}

    order_id = sandbox.create_sale("square", location=1, items=items)["order_id"]
    # Two order.updated (rung up OPEN v1, paid COMPLETED v2) and the inventory change.
    events = wait_processed("square", 3, "order.updated and inventory.count.updated to be processed")
    assert sorted(e.topic for e in events) == ["inventory.count.updated", "order.updated", "order.updated"]
    assert all(e.connection_id == connection.pk and e.external_account_id == connection.external_account_id
               for e in events)

    # The order webhook carries no lines: the worker fetched the order from the sandbox (BatchRetrieveOrders).
    assert ApiCallLog.objects.filter(connection=connection, url__contains="/v2/orders/batch-retrieve",
                                     status_code=200).exists()
    lines = list(Transaction.objects.filter(retailer=retailer, external_order_id=order_id)
                 .select_related("product_mapping", "store_mapping").order_by("external_line_id"))
    assert_sale_lines(lines, [(ids.variation(v), "", qty, merchant.variant(v).price_cents) for v, qty in items])
    assert {t.store_mapping.external_id for t in lines} == {ids.location(1)}
    for v, qty in items:
        stored = level(retailer, ids.location(1), item_id=ids.variation(v))
        # Square states: IN_STOCK is what is for sale, RESERVED_FOR_SALE the committed rest of what is on hand.
        committed = merchant.stock(v, 1).committed
        assert stored.on_hand == Decimal(before[v] - qty)
        assert (stored.available, stored.committed) == (Decimal(before[v] - qty - committed), Decimal(committed))

    sandbox.change_stock("square", item=7, location=0, on_hand=42)
    wait_processed("square", 4, "the stock change to be processed")
    assert level(retailer, ids.location(0), item_id=ids.variation(7)).on_hand == Decimal(42)
    assert all(d["status"] == 200 for d in sandbox.deliveries("square"))


def test_square_signature_is_over_the_registered_url_and_the_sandbox_retries_until_it_matches(
        sandbox, retailer, settings):
    """A portal configured with another notification URL refuses every signature (401, counted, nothing stored);
    the sandbox retries on Square's (scaled) schedule and the first retry after the fix is stored."""
    sandbox_connection(sandbox, retailer, "square")
    settings.SQUARE_WEBHOOK_NOTIFICATION_URL = "https://portal.example.com/webhooks/square/"
    sandbox.change_stock("square", item=2, location=0, on_hand=9)
    wait_until(lambda: len(sandbox.deliveries("square")) >= 2, timeout=30, what="a delivery and a retry")
    assert not WebhookEvent.objects.exists()
    assert {d["status"] for d in sandbox.deliveries("square")} == {401}
    assert WebhookRejection.objects.get(provider="square", reason="invalid_signature").count >= 2

    settings.SQUARE_WEBHOOK_NOTIFICATION_URL = ""  # back to BASE_URL + /webhooks/square/, what the sandbox signs
    # The sandbox records a delivery when the answer arrives, just after the row is committed: wait for that.
    accepted = wait_until(lambda: [d for d in sandbox.deliveries("square") if d["status"] == 200], timeout=30,
                          what="a retry to be accepted")
    event = WebhookEvent.objects.get(provider="square")
    assert len(accepted) == 1 and accepted[0]["attempt"] >= 1
    assert event.headers.get("square-retry-number") == str(accepted[0]["attempt"])
    assert "x-square-hmacsha256-signature" not in event.headers  # never stored


# --- Shopify -------------------------------------------------------------------------------------------------------
def test_shopify_sale_and_stock_change_become_transactions_and_levels(sandbox, worker, retailer):
    sandbox_connection(sandbox, retailer, "shopify")
    merchant = sandbox.merchant("shopify")
    # A product edit first (products/update): the variant's mapping learns its inventory item id, so the levels
    # below attach to it; variant 6 is never announced and its level waits on a placeholder mapping.
    sku = sandbox.edit_product("shopify", item=4, price_cents=1234)["sku"]
    wait_processed("shopify", 1, "products/update to be processed")

    items = [(4, 2), (6, 1)]
    order_gid = sandbox.create_sale("shopify", location=1, items=items)["order_id"]
    events = wait_processed("shopify", 4, "orders/create and two inventory_levels/update to be processed")
    assert sorted(e.topic for e in events[1:]) == ["inventory_levels/update"] * 2 + ["orders/create"]

    lines = list(Transaction.objects.filter(retailer=retailer, external_order_id=order_gid.rsplit("/", 1)[-1])
                 .select_related("product_mapping", "store_mapping").order_by("external_line_id"))
    assert_sale_lines(lines, [(str(legacy_id("ProductVariant", v)), merchant.variant(v).sku, qty,
                               merchant.variant(v).price_cents) for v, qty in items])
    assert lines[0].unit_price == Decimal("12.34") and lines[0].sku == sku
    location = str(legacy_id("Location", 1))
    assert {t.store_mapping.external_id for t in lines} == {location}
    for v, _ in items:
        stored = level(retailer, location, secondary_id=str(legacy_id("InventoryItem", v)))
        assert stored.available == Decimal(merchant.stock(v, 1).available)
    assert level(retailer, location, item_id=str(legacy_id("ProductVariant", 4))).product_mapping.sku == sku

    sandbox.change_stock("shopify", item=4, location=0, on_hand=42)
    wait_processed("shopify", 5, "the stock change to be processed")
    stored = level(retailer, str(legacy_id("Location", 0)), item_id=str(legacy_id("ProductVariant", 4)))
    assert stored.available == Decimal(merchant.stock(4, 0).available) == Decimal(42 - merchant.stock(4, 0).committed)
    assert all(d["status"] == 200 for d in sandbox.deliveries("shopify"))


def test_shopify_product_deleted_at_the_shop_is_marked_deleted_with_when_and_kept(sandbox, worker, retailer):
    sandbox_connection(sandbox, retailer, "shopify")
    per = sandbox.merchant("shopify").sizes.variants_per_product
    first, last = 2 * per, 3 * per  # the variants of product 2
    sandbox.edit_product("shopify", item=first, price_cents=999)  # products/update: the variants get mapped
    wait_processed("shopify", 1, "products/update to be processed")
    for index in range(first, last):
        sandbox.edit_product("shopify", item=index, deleted=True)
    events = wait_processed("shopify", 1 + per, "the deletes to be processed")
    assert sorted(e.topic for e in events).count("products/delete") == 1
    ids = [str(legacy_id("ProductVariant", i)) for i in range(first, last)]
    rows = ProductMapping.objects.filter(retailer=retailer, provider="shopify", external_id__in=ids)
    assert rows.count() == per and all(r.deleted_at_source and r.deleted_at_source_at for r in rows)
    assert not ProductMapping.objects.filter(retailer=retailer, deleted_at_source=True).exclude(
        external_id__in=ids).exists()
    # The REST API shows each of them deleted at source with when (the time the portal learned of it: Shopify's
    # products/delete carries no time), and nothing else as deleted.
    from rest_framework.test import APIClient

    from inventory.models import ApiToken

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(retailer, 'deletes-e2e')[1]}")
    shown = [m for m in api.get("/api/v1/mappings/?page_size=500").json()["results"] if m["deleted_at_source"]]
    assert sorted(m["external_id"] for m in shown) == sorted(ids)
    assert all(m["deleted_at_source_at"] for m in shown)


# --- duplicate deliveries ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["square", "shopify"])
def test_every_event_delivered_twice_is_stored_and_ingested_once(provider, sandbox, worker, retailer):
    sandbox_connection(sandbox, retailer, provider)
    sandbox.config.duplicate_webhook_probability = 1.0
    change = sandbox.create_sale(provider, location=0, items=[(1, 3), (2, 1)])
    # Square: two order.updated (OPEN v1, COMPLETED v2) + one inventory event; Shopify: the order + one per level.
    topics = 3

    def both_copies_delivered():
        done = [d for d in sandbox.deliveries(provider) if d["status"] == 200]
        return len(done) == 2 * topics and sum(d["duplicate"] for d in done) == topics

    wait_until(both_copies_delivered, timeout=30, what="every event and its duplicate to be delivered")
    event_ids = {d["event_id"] for d in sandbox.deliveries(provider)}
    assert len(event_ids) == topics
    events = wait_processed(provider, topics, "the events to be processed")
    assert {e.event_id for e in events} == event_ids  # one row per event id, both copies answered 200
    order_id = str(change["order_id"]).rsplit("/", 1)[-1]
    lines = Transaction.objects.filter(retailer=retailer, external_order_id=order_id)
    assert sorted(lines.values_list("quantity", flat=True)) == [Decimal(1), Decimal(3)]  # not doubled
    assert Transaction.objects.filter(retailer=retailer).count() == 2
