"""Refunds and returns end to end (issue 13): the sandbox makes a Square itemized refund and a Shopify return, sends
the events Square and Shopify send for them (signed, each delivered twice), a real Celery worker processes them on
PostgreSQL, and the REST API shows each given-back line once as a negative line linked to the sold line. Replaying
the events and re-running the orders sync change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from integrations.models import WebhookEvent
from inventory.models import ApiToken, Transaction
from sandbox.shopify.objects import legacy_id
from sandbox.square.objects import SquareIds, line_uid
from tests.processes import wait_until
from tests.sync.e2e_helpers import sandbox_connection, sync_all, unthrottled_shop
from tests.webhooks.test_sandbox_sender_e2e import sandbox, wait_processed, worker  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def api_lines(retailer, **filters) -> list[dict]:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(retailer, 'refunds-e2e')[1]}")
    rows, url = [], "/api/v1/transactions/?page_size=500"
    while url:
        body = api.get(url).json()
        rows += body["results"]
        url = body.get("next") if body.get("has_more") else None
    return [r for r in rows if all(r[k] == v for k, v in filters.items())]


def delivered_twice(handle, provider: str, count: int) -> bool:
    done = [d for d in handle.deliveries(provider) if d["status"] == 200]
    return len(done) >= 2 * count


def replay_all(provider: str) -> None:
    ids = [str(pk) for pk in WebhookEvent.objects.filter(provider=provider).values_list("pk", flat=True)]
    call_command("replay_webhooks", "--ids", *ids, "--inline")


def test_a_square_refund_is_one_negative_linked_line_however_often_it_arrives(sandbox, worker, retailer):  # noqa: F811
    connection = sandbox_connection(sandbox, retailer, "square")
    sandbox.config.duplicate_webhook_probability = 1.0  # every event is delivered twice (same event id)
    m = sandbox.merchant("square")
    ids = SquareIds(m)
    sold_id = sandbox.create_sale("square", location=1, items=[(3, 2), (5, 1)])["order_id"]
    wait_processed("square", 3, "the sale's events")
    sold_index = ids.order_index(sold_id)

    refund_id = sandbox.refund_order("square", order=sold_index, items=[(0, 1)])["order_id"]
    # order.created for the refund order, refund.created, refund.updated, inventory.count.updated
    events = wait_processed("square", 7, "the refund's events")
    assert {"order.created", "refund.created", "refund.updated"} <= {e.topic for e in events}
    wait_until(lambda: delivered_twice(sandbox, "square", 7), timeout=30, what="every event delivered twice")

    def check():
        given_back = api_lines(retailer, external_order_id=refund_id)
        assert [(r["quantity"], r["state"], r["refund_of_order_id"], r["refund_of_line_id"], r["unit_price"])
                for r in given_back] == [("-1.0000", "refunded", sold_id, line_uid(sold_id, 0),
                                          f"{m.variant(3).price_cents / 100:.4f}")]
        sold = sorted((r["external_line_id"], r["quantity"]) for r in api_lines(retailer, external_order_id=sold_id))
        assert sold == [(line_uid(sold_id, 0), "2.0000"), (line_uid(sold_id, 1), "1.0000")]  # the sale stays whole
        assert Transaction.objects.filter(retailer=retailer, refund_of_order_id=sold_id).count() == 1

    check()
    replay_all("square")  # every event processed again
    check()
    runs = sync_all(connection)  # and the orders sync reads both orders again
    assert runs["orders"].status == "succeeded"
    check()


def test_a_shopify_return_is_one_negative_linked_line_however_often_it_arrives(sandbox, worker, retailer):  # noqa: F811
    connection = sandbox_connection(sandbox, retailer, "shopify")
    unthrottled_shop(sandbox)  # the two syncs below re-read the shop's orders; its cost budget is not under test
    sandbox.config.duplicate_webhook_probability = 1.0
    m = sandbox.merchant("shopify")
    gid = sandbox.create_sale("shopify", location=0, items=[(4, 3), (6, 1)])["order_id"]
    wait_processed("shopify", 3, "the sale's events")
    index = int(gid.rsplit("/", 1)[1]) - legacy_id("Order", 0)
    order_id = str(legacy_id("Order", index))
    line0, line1 = (str(legacy_id("LineItem", index * 16 + k)) for k in (0, 1))

    refund_gid = sandbox.refund_order("shopify", order=index, items=[(0, 2)], restock_type="RETURN")["refund_id"]
    refund_id = refund_gid.rsplit("/", 1)[1]
    # refunds/create, orders/updated (with the refund in it), inventory_levels/update for the restocked units
    events = wait_processed("shopify", 6, "the return's events")
    assert {"refunds/create", "orders/updated"} <= {e.topic for e in events}
    wait_until(lambda: delivered_twice(sandbox, "shopify", 6), timeout=30, what="every event delivered twice")

    def check():
        given_back = api_lines(retailer, external_order_id=refund_id)
        assert [(r["quantity"], r["state"], r["refund_of_order_id"], r["refund_of_line_id"], r["unit_price"])
                for r in given_back] == [("-2.0000", "refunded", order_id, line0,
                                          f"{m.variant(4).price_cents / 100:.4f}")]
        # The sold line keeps what was sold (Shopify's currentQuantity is 1 now): sold + returned = 3 - 2.
        sold = sorted((r["external_line_id"], r["quantity"]) for r in api_lines(retailer, external_order_id=order_id))
        assert sold == sorted([(line0, "3.0000"), (line1, "1.0000")])
        assert Transaction.objects.filter(retailer=retailer, refund_of_order_id=order_id).count() == 1

    check()
    replay_all("shopify")
    check()
    runs = sync_all(connection)  # first load: the bulk operation reads the order and its refund again
    assert runs["orders"].status == "succeeded"
    check()
    runs = sync_all(connection)  # a delta run (paged query + ORDER_REFUNDS) reads them once more
    check()


def test_a_shopify_cancel_refund_lowers_the_sale_and_is_no_return(sandbox, worker, retailer):  # noqa: F811
    """A refund line with restock type CANCEL gave back units never handed over: the sold line drops, no negative
    line (it would count the same units twice)."""
    sandbox_connection(sandbox, retailer, "shopify")
    gid = sandbox.create_sale("shopify", location=0, items=[(8, 2)])["order_id"]
    wait_processed("shopify", 2, "the sale's events")
    index = int(gid.rsplit("/", 1)[1]) - legacy_id("Order", 0)
    sandbox.refund_order("shopify", order=index, items=[(0, 1)], restock_type="CANCEL")
    wait_processed("shopify", 4, "refunds/create and orders/updated")
    lines = Transaction.objects.filter(retailer=retailer)
    assert [(t.external_order_id, t.quantity) for t in lines] == [(str(legacy_id("Order", index)), Decimal(1))]
