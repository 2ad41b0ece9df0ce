"""Shopify refunds and returns as sale lines (issue 13): the sold line keeps what was sold, each refund line that
gave goods back is its own negative line linked to it, a CANCEL refund line only lowers the sale; the GraphQL sync
and the REST-style webhook payload of the same order make the same lines."""

from __future__ import annotations

from decimal import Decimal

from integrations.providers.shopify import mappers


def graphql_order(refunds):
    return {
        "id": "gid://shopify/Order/900", "createdAt": "2026-10-03T10:00:00Z", "processedAt": "2026-10-03T10:00:00Z",
        "updatedAt": "2026-10-05T11:00:00Z", "cancelledAt": None, "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "currencyCode": "CAD", "retailLocation": {"id": "gid://shopify/Location/5"},
        "lineItems": {"nodes": [
            # 3 sold; 2 given back (1 returned, 1 cancelled before it was handed over): currentQuantity 1
            {"id": "gid://shopify/LineItem/1", "sku": "CB-L", "quantity": 3, "currentQuantity": 1,
             "variant": {"id": "gid://shopify/ProductVariant/111"},
             "originalUnitPriceSet": {"shopMoney": {"amount": "12.50", "currencyCode": "CAD"}}},
            {"id": "gid://shopify/LineItem/2", "sku": "TEA", "quantity": 2, "currentQuantity": 0,
             "variant": {"id": "gid://shopify/ProductVariant/222"},
             "originalUnitPriceSet": {"shopMoney": {"amount": "4.00", "currencyCode": "CAD"}}},
        ]},
        "refunds": refunds,
    }


GRAPHQL_REFUNDS = [
    {"id": "gid://shopify/Refund/70", "createdAt": "2026-10-04T09:00:00Z", "updatedAt": "2026-10-04T09:00:01Z",
     "return": {"id": "gid://shopify/Return/7"}, "refundLineItems": {"nodes": [
         {"id": "gid://shopify/RefundLineItem/71", "quantity": 1, "restockType": "RETURN",
          "lineItem": {"id": "gid://shopify/LineItem/1"},
          "priceSet": {"shopMoney": {"amount": "12.50", "currencyCode": "CAD"}}},
         {"id": "gid://shopify/RefundLineItem/72", "quantity": 2, "restockType": "NO_RESTOCK",
          "lineItem": {"id": "gid://shopify/LineItem/2"},
          "priceSet": {"shopMoney": {"amount": "4.00", "currencyCode": "CAD"}}}]}},
    {"id": "gid://shopify/Refund/80", "createdAt": "2026-10-05T11:00:00Z", "updatedAt": "2026-10-05T11:00:00Z",
     "return": None, "refundLineItems": {"nodes": [
         {"id": "gid://shopify/RefundLineItem/81", "quantity": 1, "restockType": "CANCEL",
          "lineItem": {"id": "gid://shopify/LineItem/1"},
          "priceSet": {"shopMoney": {"amount": "12.50", "currencyCode": "CAD"}}}]}},
]

REST_ORDER = {
    "id": 900, "created_at": "2026-10-03T10:00:00Z", "processed_at": "2026-10-03T10:00:00Z",
    "updated_at": "2026-10-05T11:00:00Z", "cancelled_at": None, "financial_status": "partially_refunded",
    "currency": "CAD", "location_id": 5,
    "line_items": [
        {"id": 1, "variant_id": 111, "sku": "CB-L", "quantity": 3, "current_quantity": 1, "price": "12.50"},
        {"id": 2, "variant_id": 222, "sku": "TEA", "quantity": 2, "current_quantity": 0, "price": "4.00"},
    ],
    "refunds": [
        {"id": 70, "order_id": 900, "created_at": "2026-10-04T09:00:00Z", "refund_line_items": [
            {"id": 71, "line_item_id": 1, "quantity": 1, "restock_type": "return", "subtotal": "12.50"},
            {"id": 72, "line_item_id": 2, "quantity": 2, "restock_type": "no_restock", "subtotal": "8.00"}]},
        {"id": 80, "order_id": 900, "created_at": "2026-10-05T11:00:00Z", "refund_line_items": [
            {"id": 81, "line_item_id": 1, "quantity": 1, "restock_type": "cancel", "subtotal": "12.50"}]},
    ],
}


def summary(lines):
    return [(s.order_external_id, s.line_external_id, s.item_external_id, s.location_external_id, s.quantity,
             s.unit_price, s.state, s.refund_of_order_id, s.refund_of_line_id, s.occurred_at) for s in lines]


def test_sold_lines_keep_what_was_sold_and_each_return_is_one_negative_linked_line():
    lines = mappers.map_order(graphql_order(GRAPHQL_REFUNDS))
    sold = {s.line_external_id: s for s in lines if s.order_external_id == "900"}
    # Line 1: 3 ordered, 1 cancelled (never handed over) -> 2 sold, 1 of them returned. Line 2: 2 sold, 2 refunded.
    assert (sold["1"].quantity, sold["2"].quantity) == (Decimal(2), Decimal(2))
    refunds = [s for s in lines if s.order_external_id != "900"]
    assert [(s.order_external_id, s.line_external_id, s.item_external_id, s.location_external_id, s.quantity,
             s.unit_price, s.state, s.refund_of_order_id, s.refund_of_line_id) for s in refunds] == [
        ("70", "71", "111", "5", Decimal(-1), Decimal("12.50"), "refunded", "900", "1"),
        ("70", "72", "222", "5", Decimal(-2), Decimal("4.00"), "refunded", "900", "2")]
    # Sold and given back add up to what Shopify says is left (currentQuantity): no refund counted twice.
    for line_id, current in (("1", 1), ("2", 0)):
        assert sum(s.quantity for s in lines if line_id in (s.line_external_id, s.refund_of_line_id)
                   and (s.order_external_id == "900" or s.refund_of_line_id == line_id)) == current


def test_the_webhook_payload_and_the_sync_make_the_same_lines():
    assert summary(mappers.map_order_payload(REST_ORDER)) == summary(mappers.map_order(graphql_order(GRAPHQL_REFUNDS)))


def test_an_order_without_refunds_reads_current_quantity_as_before():
    order = graphql_order([])
    order["lineItems"]["nodes"][0]["currentQuantity"] = 2  # one unit removed by an order edit, no refund
    sold = {s.line_external_id: s.quantity for s in mappers.map_order(order)}
    assert sold == {"1": Decimal(2), "2": Decimal(0)}


def test_a_refund_line_without_an_id_is_keyed_by_its_refund_and_sold_line():
    refunds = [{**GRAPHQL_REFUNDS[0], "refundLineItems": {"nodes": [
        {**GRAPHQL_REFUNDS[0]["refundLineItems"]["nodes"][0], "id": None}]}}]
    [given_back] = [s for s in mappers.map_order(graphql_order(refunds)) if s.quantity < 0]
    assert (given_back.order_external_id, given_back.line_external_id) == ("70", "70-1")
