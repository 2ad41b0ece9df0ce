"""Shopify topics processed into inventory through ``inventory.ingest``, in a transaction, exactly once."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from integrations.models import Connection, WebhookEvent
from integrations.webhooks.processing import process_event
from inventory.models import InventoryLevel, ProductMapping, StoreMapping, Transaction

from .helpers import SHOPIFY_SHOP, deliver, shopify_order, shopify_request

pytestmark = pytest.mark.django_db
Status = WebhookEvent.Status


def process(event: WebhookEvent) -> WebhookEvent:
    process_event(event.pk)
    event.refresh_from_db()
    return event


def lines(order_id="9001"):
    return {
        t.external_line_id: (t.quantity, t.state)
        for t in Transaction.objects.filter(source="shopify", external_order_id=order_id)
    }


def test_order_create_becomes_transactions_with_pending_mappings(shopify_connection):
    order = shopify_order(9001, [(1, 501, 2, "4.50"), (2, 502, 1, "10.00")], updated_at="2026-09-01T10:00:00Z")
    event = process(deliver("shopify", shopify_request("orders/create", order)))
    assert event.status == Status.PROCESSED, event.error
    assert "created 2" in event.outcome and event.attempts == 1
    txn = Transaction.objects.get(external_line_id="1")
    assert (txn.quantity, txn.unit_price, txn.currency, txn.sku) == (Decimal(2), Decimal("4.50"), "USD", "SKU-501")
    assert txn.retailer_id == shopify_connection.retailer_id and txn.external_account_id == SHOPIFY_SHOP
    # Unknown location and variants are not dropped: their mappings wait for staff.
    assert StoreMapping.objects.filter(provider="shopify", external_id="7001", store=None).exists()
    pending = ProductMapping.objects.filter(provider="shopify", product=None)
    assert set(pending.values_list("external_id", flat=True)) == {"501", "502"}


def test_edit_and_cancellation_change_the_stored_lines_instead_of_adding(shopify_connection):
    created = shopify_order(9001, [(1, 501, 2, "4.50"), (2, 502, 1, "10.00")], updated_at="2026-09-01T10:00:00Z")
    process(deliver("shopify", shopify_request("orders/create", created)))
    edited = shopify_order(9001, [(1, 501, 3, "4.50"), (2, 502, 1, "10.00")], updated_at="2026-09-01T11:00:00Z")
    edited["line_items"][1]["current_quantity"] = 0  # line 2 removed by an order edit
    assert process(deliver("shopify", shopify_request("orders/updated", edited))).status == Status.PROCESSED
    assert lines() == {"1": (Decimal(3), "completed"), "2": (Decimal(0), "completed")}
    cancelled = shopify_order(9001, [(1, 501, 3, "4.50"), (2, 502, 1, "10.00")], updated_at="2026-09-01T12:00:00Z",
                              cancelled_at="2026-09-01T12:00:00Z")
    for line in cancelled["line_items"]:
        line["current_quantity"] = 0
    assert process(deliver("shopify", shopify_request("orders/cancelled", cancelled))).status == Status.PROCESSED
    assert lines() == {"1": (Decimal(0), "cancelled"), "2": (Decimal(0), "cancelled")}
    assert Transaction.objects.count() == 2


def test_an_older_order_event_delivered_late_never_overwrites_newer_data(shopify_connection):
    newer = shopify_order(9001, [(1, 501, 5, "4.50")], updated_at="2026-09-01T12:00:00Z")
    older = shopify_order(9001, [(1, 501, 2, "4.50")], updated_at="2026-09-01T10:00:00Z")
    process(deliver("shopify", shopify_request("orders/updated", newer)))
    late = process(deliver("shopify", shopify_request("orders/updated", older)))
    assert late.status == Status.PROCESSED
    assert lines() == {"1": (Decimal(5), "completed")}


def test_redelivered_or_replayed_event_is_processed_once(shopify_connection):
    order = shopify_order(9001, [(1, 501, 2, "4.50")], updated_at="2026-09-01T10:00:00Z")
    event = process(deliver("shopify", shopify_request("orders/create", order)))
    before = list(Transaction.objects.values("id", "quantity", "updated_at"))
    # The task delivered again (acks_late redelivery, sweep overlap): the row is final, nothing runs.
    assert process_event(event.pk).status == Status.PROCESSED
    event.refresh_from_db()
    assert event.attempts == 1
    # An explicit replay does run the handler again, and ingest's idempotency keeps one set of lines.
    call_command("replay_webhooks", "--ids", event.event_id, "--inline")
    event.refresh_from_db()
    assert event.status == Status.PROCESSED and "unchanged 1" in event.outcome
    assert list(Transaction.objects.values("id", "quantity", "updated_at")) == before


def test_products_update_upserts_variant_mappings_with_inventory_item_ids(shopify_connection):
    product = {"id": 77, "title": "Oat Milk", "updated_at": "2026-09-01T10:00:00Z", "variants": [
        {"id": 501, "title": "1 L", "sku": "OAT-1L", "barcode": "0001234567890", "inventory_item_id": 8801,
         "updated_at": "2026-09-01T10:00:00Z"},
        {"id": 502, "title": "Default Title", "sku": "OAT-2L", "barcode": "", "inventory_item_id": 8802},
    ]}
    event = process(deliver("shopify", shopify_request("products/update", product)))
    assert event.status == Status.PROCESSED, event.error
    mapping = ProductMapping.objects.get(provider="shopify", external_id="501")
    assert (mapping.sku, mapping.barcode, mapping.secondary_id) == ("OAT-1L", "0001234567890", "8801")
    assert mapping.external_name == "Oat Milk - 1 L"
    assert ProductMapping.objects.get(external_id="502").external_name == "Oat Milk"


def test_products_delete_marks_its_variants_deleted_at_source_once_and_keeps_them(shopify_connection):
    product = {"id": 78, "title": "Rye Bread", "variants": [
        {"id": 601, "sku": "RYE-S", "inventory_item_id": 8901}, {"id": 602, "sku": "RYE-L", "inventory_item_id": 8902}]}
    other = {"id": 79, "title": "Spelt", "variants": [{"id": 701, "sku": "SPELT", "inventory_item_id": 8903}]}
    for payload in (product, other):
        assert process(deliver("shopify", shopify_request("products/update", payload))).status == Status.PROCESSED
    assert ProductMapping.objects.get(external_id="601").parent_external_id == "78"

    gone = process(deliver("shopify", shopify_request("products/delete", {"id": 78})))
    assert gone.status == Status.PROCESSED and "updated 2" in gone.outcome, gone.error
    deleted = ProductMapping.objects.filter(provider="shopify", deleted_at_source=True)
    assert sorted(deleted.values_list("external_id", flat=True)) == ["601", "602"]
    assert all(m.deleted_at_source_at == gone.received_at for m in deleted)
    assert not ProductMapping.objects.get(external_id="701").deleted_at_source
    stamps = sorted(deleted.values_list("updated_at", flat=True))

    # Shopify delivers again (a new delivery of the same news): nothing changes, nothing is removed.
    again = process(deliver("shopify", shopify_request("products/delete", {"id": 78})))
    assert again.status == Status.PROCESSED and "updated 0, unchanged 2" in again.outcome
    assert sorted(deleted.values_list("updated_at", flat=True)) == stamps
    assert ProductMapping.objects.filter(provider="shopify").count() == 3


def test_inventory_level_update_sets_the_level_and_ignores_older_ones(shopify_connection):
    product = {"id": 77, "title": "Oat Milk", "variants": [{"id": 501, "sku": "OAT", "inventory_item_id": 8801}]}
    process(deliver("shopify", shopify_request("products/update", product)))
    newer = {"inventory_item_id": 8801, "location_id": 7001, "available": 12, "updated_at": "2026-09-01T12:00:00Z"}
    older = {**newer, "available": 3, "updated_at": "2026-09-01T09:00:00Z"}
    assert process(deliver("shopify", shopify_request("inventory_levels/update", newer))).status == Status.PROCESSED
    assert process(deliver("shopify", shopify_request("inventory_levels/update", older))).status == Status.PROCESSED
    level = InventoryLevel.objects.get()
    assert level.available == Decimal(12) and level.product_mapping.external_id == "501"
    assert level.store_mapping.external_id == "7001"


def test_app_uninstalled_disconnects_through_the_connect_service(shopify_connection):
    event = process(deliver("shopify", shopify_request("app/uninstalled", {"id": 1, "domain": SHOPIFY_SHOP})))
    assert event.status == Status.PROCESSED, event.error
    shopify_connection.refresh_from_db()
    assert shopify_connection.status == Connection.Status.DISCONNECTED and not shopify_connection.access_token


def test_after_disconnect_only_compliance_topics_run(shopify_connection):
    Connection.objects.filter(pk=shopify_connection.pk).update(status=Connection.Status.DISCONNECTED)
    order = shopify_order(9001, [(1, 501, 2, "4.50")], updated_at="2026-09-01T10:00:00Z")
    assert process(deliver("shopify", shopify_request("orders/create", order))).status == Status.IGNORED
    assert not Transaction.objects.exists()
    redact = {"shop_id": 1, "shop_domain": SHOPIFY_SHOP}
    assert process(deliver("shopify", shopify_request("shop/redact", redact))).status == Status.PROCESSED


def test_compliance_topics_are_recorded_and_redact_stored_personal_data(shopify_connection):
    mine = shopify_order(9001, [(1, 501, 2, "4.50")], updated_at="2026-09-01T10:00:00Z")
    other = shopify_order(9002, [(1, 501, 1, "4.50")], updated_at="2026-09-01T10:00:00Z")
    other["customer"] = {"id": 777, "email": "someone@example.com"}
    e1 = process(deliver("shopify", shopify_request("orders/create", mine)))
    e2 = process(deliver("shopify", shopify_request("orders/create", other)))
    request = {"shop_id": 1, "shop_domain": SHOPIFY_SHOP, "orders_requested": [9001],
               "customer": {"id": 555, "email": "jo@example.com"}, "data_request": {"id": 42}}
    asked = process(deliver("shopify", shopify_request("customers/data_request", request)))
    assert asked.status == Status.PROCESSED and "1 stored order payloads" in asked.outcome
    redact = {"shop_id": 1, "shop_domain": SHOPIFY_SHOP, "customer": {"id": 555, "email": "jo@example.com"},
              "orders_to_redact": [9001]}
    assert process(deliver("shopify", shopify_request("customers/redact", redact))).status == Status.PROCESSED
    e1.refresh_from_db()
    e2.refresh_from_db()
    assert b"jo@example.com" not in bytes(e1.body) and b"someone@example.com" in bytes(e2.body)
    shop = process(deliver("shopify", shopify_request("shop/redact", {"shop_id": 1, "shop_domain": SHOPIFY_SHOP})))
    assert shop.status == Status.PROCESSED
    e2.refresh_from_db()
    assert b"someone@example.com" not in bytes(e2.body)
    assert Transaction.objects.count() == 2  # sales figures are the retailer's business data and stay


def test_unreadable_order_fails_with_the_reason_and_no_retry(shopify_connection):
    order = shopify_order(9001, [(1, 501, 2, "4.50")], updated_at="2026-09-01T10:00:00Z")
    order["line_items"][0]["current_quantity"] = "lots"
    event = process(deliver("shopify", shopify_request("orders/create", order)))
    assert event.status == Status.FAILED and event.next_attempt_at is None
    assert "quantity" in event.error and "Traceback" in event.traceback
    assert not Transaction.objects.exists()
