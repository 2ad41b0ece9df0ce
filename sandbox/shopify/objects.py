"""Shopify ids and objects: GraphQL node dicts (lazy fields are callables taking the field's arguments) and the
REST-style snake_case payloads webhooks carry (provider-facts 2.2)."""

from __future__ import annotations

import re

from graphql import GraphQLError

from ..data import Merchant, Order, Refund, Stock, Variant, rfc3339

BASE = {"Location": 70_000_000_000, "Product": 8_000_000_000, "ProductVariant": 40_000_000_000,
        "InventoryItem": 42_000_000_000, "Order": 5_000_000_000, "LineItem": 13_000_000_000,
        "Refund": 900_000_000_000, "RefundLineItem": 600_000_000_000, "Return": 70_000_000}
GID_RE = re.compile(r"^gid://shopify/(\w+)/(\d+)")
QUANTITY_NAMES = {"available", "on_hand", "committed", "incoming", "reserved", "damaged", "safety_stock",
                  "quality_control"}


def legacy_id(kind: str, index: int) -> int:
    return BASE[kind] + index


def gid(kind: str, index: int) -> str:
    return f"gid://shopify/{kind}/{legacy_id(kind, index)}"


def parse_gid(value: str, kind: str) -> int | None:
    match = GID_RE.match(value or "")
    if not match or match.group(1) != kind:
        return None
    index = int(match.group(2)) - BASE[kind]
    return index if index >= 0 else None


def money_bag(cents: int, currency: str) -> dict:
    money = {"amount": f"{cents / 100:.2f}", "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


class Nodes:
    """Builds GraphQL node dicts for one shop; ``levels`` is set by the API module (connections need paging)."""

    def __init__(self, m: Merchant, levels_connection):
        self.m = m
        self.levels_connection = levels_connection

    def location(self, index: int) -> dict:
        loc = self.m.location(index)
        return {"id": gid("Location", index), "name": loc.name, "isActive": True,
                "legacyResourceId": str(legacy_id("Location", index)),
                "address": {"address1": loc.street_line, "city": loc.city, "province": loc.region,
                            "countryCode": "US", "zip": f"{97000 + index}"},
                "inventoryLevels": lambda **args: self.levels_connection(location=index, **args)}

    def variant(self, v: Variant) -> dict:
        return {"id": gid("ProductVariant", v.index), "legacyResourceId": str(legacy_id("ProductVariant", v.index)),
                "sku": v.sku, "barcode": v.barcode, "title": v.name, "displayName": v.title,
                "price": f"{v.price_cents / 100:.2f}", "createdAt": rfc3339(self.m.base_variant(v.index).updated_at),
                "updatedAt": rfc3339(v.updated_at),
                "product": lambda **_: {"id": gid("Product", v.product_index), "title": v.product_name,
                                        "handle": v.product_name.lower().replace(" ", "-"),
                                        "updatedAt": rfc3339(v.updated_at)},
                "inventoryItem": lambda **_: self.inventory_item(v)}

    def inventory_item(self, v: Variant) -> dict:
        return {"id": gid("InventoryItem", v.index), "legacyResourceId": str(legacy_id("InventoryItem", v.index)),
                "sku": v.sku, "tracked": True, "updatedAt": rfc3339(v.updated_at),
                "createdAt": rfc3339(self.m.base_variant(v.index).updated_at),
                "variant": lambda **_: self.variant(v),
                "inventoryLevels": lambda **args: self.levels_connection(variant=v.index, **args),
                "inventoryLevel": lambda locationId, **_: self._level_at(v.index, locationId)}

    def _level_at(self, variant_index: int, location_gid: str):
        loc = parse_gid(location_gid, "Location")
        if loc is None or loc >= self.m.sizes.locations:
            return None
        return self.level(self.m.stock(variant_index, loc))

    def level(self, s: Stock) -> dict:
        quantities = {"available": s.available, "on_hand": s.on_hand, "committed": s.committed}

        def resolve_quantities(names, **_):
            unknown = [n for n in names if n not in QUANTITY_NAMES]
            if unknown:
                raise GraphQLError(f"Invalid quantity name(s): {', '.join(unknown)}")
            return [{"id": f"{gid('InventoryItem', s.variant_index)}-{name}", "name": name,
                     "quantity": quantities.get(name, 0), "updatedAt": rfc3339(s.updated_at)} for name in names]

        item_id = legacy_id("InventoryItem", s.variant_index)
        return {"id": f"gid://shopify/InventoryLevel/{legacy_id('Location', s.location_index)}"
                      f"?inventory_item_id={item_id}",
                "location": lambda **_: self.location(s.location_index),
                "item": lambda **_: self.inventory_item(self.m.variant(s.variant_index)),
                "updatedAt": rfc3339(s.updated_at), "createdAt": rfc3339(s.updated_at),
                "quantities": resolve_quantities}

    def order(self, o: Order, line_items_connection) -> dict:
        return {"id": gid("Order", o.index), "legacyResourceId": str(legacy_id("Order", o.index)),
                "name": f"#{1001 + o.index}", "createdAt": rfc3339(o.created_at), "updatedAt": rfc3339(o.updated_at),
                "processedAt": rfc3339(o.created_at),
                "cancelledAt": rfc3339(o.updated_at) if o.state == "CANCELED" else None,
                "closedAt": rfc3339(o.updated_at), "displayFinancialStatus": "PAID",
                "displayFulfillmentStatus": "FULFILLED", "currencyCode": o.currency,
                "totalPriceSet": money_bag(o.total_cents, o.currency),
                # Every sandbox order is a POS sale at a location; retailLocation replaced physicalLocation.
                "physicalLocation": lambda **_: self.location(o.location_index),
                "retailLocation": lambda **_: self.location(o.location_index),
                "lineItems": lambda **args: line_items_connection(o, **args),
                "refunds": lambda first=None, **_: [self.refund(o, r, line_items_connection)
                                                    for r in self.m.refunds_of(o.index)[:first]]}

    def refund(self, o: Order, r: Refund, paged) -> dict:
        """A Refund: its lines name the sold line items; a RETURN refund belongs to a Return."""
        def lines(**args):
            return paged(o, rows=lambda after: ((k, self.refund_line(o, r, k)) for k in range(
                0 if after is None else after + 1, len(r.lines))), **args)

        return {"id": gid("Refund", r.index), "legacyResourceId": str(legacy_id("Refund", r.index)),
                "createdAt": rfc3339(r.created_at), "updatedAt": rfc3339(r.created_at),
                "processedAt": rfc3339(r.created_at),
                "return": ({"id": gid("Return", r.index), "name": f"#{1001 + o.index}-R{r.index + 1}"}
                           if r.restock_type == "RETURN" else None),
                "refundLineItems": lines}

    def refund_line(self, o: Order, r: Refund, k: int) -> dict:
        line_index, qty = r.lines[k]
        cents = o.lines[line_index].unit_price_cents
        return {"id": gid("RefundLineItem", r.index * 16 + k), "quantity": qty, "restockType": r.restock_type,
                "restocked": r.restock_type == "RETURN", "lineItem": lambda **_: self.line_item(o, line_index),
                "priceSet": money_bag(cents, o.currency), "subtotalSet": money_bag(cents * qty, o.currency)}

    def line_item(self, o: Order, k: int) -> dict:
        line = o.lines[k]
        v = self.m.variant(line.variant_index)
        current = 0 if o.state == "CANCELED" else line.quantity - self.m.refunded(o.index, k)
        return {"id": gid("LineItem", o.index * 16 + k), "sku": line.sku, "name": v.title, "title": v.product_name,
                "quantity": line.quantity, "currentQuantity": current,
                "variant": lambda **_: self.variant(v),
                "originalUnitPriceSet": money_bag(line.unit_price_cents, o.currency),
                "discountedUnitPriceSet": money_bag(line.unit_price_cents, o.currency),
                "originalTotalSet": money_bag(line.unit_price_cents * line.quantity, o.currency)}


# --- webhook payloads (REST-style, snake_case) ------------------------------------------------------------------
def order_payload(m: Merchant, o: Order) -> dict:
    def price(cents):
        return f"{cents / 100:.2f}"

    lines = []
    for line in o.lines:
        v = m.variant(line.variant_index)
        lines.append({"id": legacy_id("LineItem", o.index * 16 + line.line_index),
                      "variant_id": legacy_id("ProductVariant", v.index),
                      "product_id": legacy_id("Product", v.product_index), "sku": line.sku, "title": v.product_name,
                      "variant_title": v.name, "quantity": line.quantity, "price": price(line.unit_price_cents),
                      "price_set": {"shop_money": {"amount": price(line.unit_price_cents), "currency_code": o.currency},
                                    "presentment_money": {"amount": price(line.unit_price_cents),
                                                          "currency_code": o.currency}},
                      "current_quantity": 0 if o.state == "CANCELED" else line.quantity - m.refunded(
                          o.index, line.line_index),
                      "fulfillable_quantity": 0})
    return {"id": legacy_id("Order", o.index), "admin_graphql_api_id": gid("Order", o.index),
            "name": f"#{1001 + o.index}", "created_at": rfc3339(o.created_at), "updated_at": rfc3339(o.updated_at),
            "cancelled_at": rfc3339(o.updated_at) if o.state == "CANCELED" else None, "currency": o.currency,
            "financial_status": "paid",
            "fulfillment_status": "fulfilled", "total_price": price(o.total_cents),
            "location_id": legacy_id("Location", o.location_index), "line_items": lines,
            "refunds": [refund_payload(m, o, r) for r in m.refunds_of(o.index)]}


def refund_payload(m: Merchant, o: Order, r: Refund) -> dict:
    """A refund as ``refunds/create`` (and an order's ``refunds``) carry it."""
    def price(cents):
        return f"{cents / 100:.2f}"

    lines = []
    for k, (line_index, qty) in enumerate(r.lines):
        line = o.lines[line_index]
        lines.append({"id": legacy_id("RefundLineItem", r.index * 16 + k),
                      "line_item_id": legacy_id("LineItem", o.index * 16 + line_index), "quantity": qty,
                      "restock_type": r.restock_type.lower(), "location_id": legacy_id("Location", o.location_index),
                      "subtotal": price(line.unit_price_cents * qty), "total_tax": "0.00",
                      "line_item": {"id": legacy_id("LineItem", o.index * 16 + line_index),
                                    "variant_id": legacy_id("ProductVariant", line.variant_index), "sku": line.sku,
                                    "quantity": line.quantity, "price": price(line.unit_price_cents)}})
    return {"id": legacy_id("Refund", r.index), "admin_graphql_api_id": gid("Refund", r.index),
            "order_id": legacy_id("Order", o.index), "created_at": rfc3339(r.created_at),
            "processed_at": rfc3339(r.created_at), "restock": r.restock_type == "RETURN",
            "return": {"id": legacy_id("Return", r.index), "admin_graphql_api_id": gid("Return", r.index)}
            if r.restock_type == "RETURN" else None, "refund_line_items": lines}


def inventory_level_payload(s: Stock) -> dict:
    item = legacy_id("InventoryItem", s.variant_index)
    location = legacy_id("Location", s.location_index)
    return {"inventory_item_id": item, "location_id": location, "available": s.available,
            "updated_at": rfc3339(s.updated_at),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}"}


def product_payload(m: Merchant, product_index: int) -> dict:
    per = m.sizes.variants_per_product
    every = [m.variant(product_index * per + k) for k in range(per)]
    variants = [v for v in every if not v.deleted] or every  # as Shopify: a deleted variant is no longer listed
    return {"id": legacy_id("Product", product_index), "admin_graphql_api_id": gid("Product", product_index),
            "title": variants[0].product_name, "updated_at": rfc3339(max(v.updated_at for v in variants)),
            "variants": [{"id": legacy_id("ProductVariant", v.index), "product_id": legacy_id("Product", product_index),
                          "title": v.name, "sku": v.sku, "barcode": v.barcode,
                          "inventory_item_id": legacy_id("InventoryItem", v.index),
                          "price": f"{v.price_cents / 100:.2f}", "updated_at": rfc3339(v.updated_at)}
                         for v in variants]}
