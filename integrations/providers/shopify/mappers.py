"""Shopify GraphQL Admin API JSON -> normalized records. Pure functions, no I/O (provider-facts 2.4).

Ids: GraphQL returns GIDs (``gid://shopify/ProductVariant/123``); records carry the numeric tail, which is also
what REST-style webhook payloads carry (``variant_id``, ``inventory_item_id``, ``location_id``), so a webhook and a
sync of the same object land on the same row. Variants carry their inventory item id as ``secondary_id``; stock
levels refer to that id (``item_id_is_secondary``). Money comes as decimal strings in ``shopMoney``.
"""

from __future__ import annotations

from decimal import Decimal

from integrations.sync.streams import parse_time
from inventory.records import Item, Location, SaleLine, StockLevel

STOCK_NAMES = ["available", "on_hand", "committed", "incoming"]
DEFAULT_VARIANT_TITLE = "Default Title"  # what Shopify names the only variant of a product without options


def numeric_id(gid: str | None) -> str:
    """``gid://shopify/Location/42`` -> ``42``; an already-numeric id is kept."""
    if not gid:
        return ""
    return str(gid).rsplit("/", 1)[-1].split("?", 1)[0]


def map_location(node: dict) -> Location:
    address = node.get("address") or {}
    parts = [address.get(k) for k in ("address1", "city", "province", "zip", "countryCode")]
    return Location(
        external_id=numeric_id(node["id"]),
        name=node.get("name") or numeric_id(node["id"]),
        address=", ".join(p for p in parts if p),
        active=node.get("isActive", True),
        updated_at=parse_time(node.get("updatedAt")),
    )


def map_variant(node: dict) -> Item:
    product_title = (node.get("product") or {}).get("title") or ""
    title = node.get("title") or ""
    name = product_title if not title or title == DEFAULT_VARIANT_TITLE else f"{product_title} - {title}"
    return Item(
        external_id=numeric_id(node["id"]),
        sku=(node.get("sku") or "").strip(),
        barcode=(node.get("barcode") or "").strip(),
        name=name or numeric_id(node["id"]),
        updated_at=parse_time(node.get("updatedAt")),
        secondary_id=numeric_id((node.get("inventoryItem") or {}).get("id")),
        parent_external_id=numeric_id((node.get("product") or {}).get("id")),
    )


def map_inventory_level(node: dict, location_gid: str | None = None) -> StockLevel:
    """An InventoryLevel with ``quantities(names: [...])`` (the old ``available`` field was removed in 2024-04)."""
    quantities = {q["name"]: Decimal(str(q["quantity"])) for q in node.get("quantities") or []}
    location = (node.get("location") or {}).get("id") or location_gid
    return StockLevel(
        location_external_id=numeric_id(location),
        item_external_id=numeric_id((node.get("item") or {}).get("id")),
        item_id_is_secondary=True,
        as_of=parse_time(node.get("updatedAt")),
        **{name: quantities.get(name) for name in STOCK_NAMES},
    )


def _order_state(order: dict) -> str:
    if order.get("cancelledAt"):
        return "cancelled"
    if order.get("displayFinancialStatus") == "REFUNDED":
        return "refunded"
    if order.get("displayFinancialStatus") in ("PENDING", "AUTHORIZED"):
        return "open"
    return "completed"


# A CANCEL refund line gives back units that were never handed over (cancelled before fulfilment): that is a smaller
# sale, not a return, so it only lowers the sold line (as ``currentQuantity`` already does). Every other restock type
# (RETURN, NO_RESTOCK, LEGACY_RESTOCK) is goods sold and given back: a negative line of its own.
NOT_A_RETURN = "CANCEL"


def given_back(refunds: list[dict], restock_type=lambda rl: rl.get("restockType"),
               line_id=lambda rl: (rl.get("lineItem") or {}).get("id"), lines=lambda r: _nodes(r, "refundLineItems")
               ) -> dict[str, int]:
    """Units per sold line (numeric id) that refunds gave back as returns (not cancellations)."""
    back: dict[str, int] = {}
    for refund in refunds:
        for rl in lines(refund):
            if str(restock_type(rl) or "").upper() != NOT_A_RETURN:
                key = numeric_id(line_id(rl))
                back[key] = back.get(key, 0) + int(rl.get("quantity") or 0)
    return back


def sold_quantity(quantity, current, returned: int) -> Decimal:
    """The sold line keeps what was sold: the ordered ``quantity`` less units removed by edits or cancelled, i.e.
    ``currentQuantity`` (which Shopify lowers for refunds too) plus the units given back by a refund, which are
    their own negative lines. Sold + refund lines then add up to ``currentQuantity``, never counting a refund
    twice."""
    if current is None:
        return Decimal(str(quantity or 0))
    return min(Decimal(str(quantity if quantity is not None else current)), Decimal(str(current)) + returned)


def _nodes(obj: dict, key: str) -> list[dict]:
    value = obj.get(key) or {}
    return value.get("nodes") or [] if isinstance(value, dict) else value


def map_order(order: dict, line_items: list[dict] | None = None, refunds: list[dict] | None = None
              ) -> list[SaleLine]:
    """One SaleLine per line item, and one negative line per refund line that gave goods back (see ``sold_quantity``).
    ``refunds``: the order's refunds with their lines (``orders.refunds``); None reads them from the order itself.
    Orders without a retail location (online orders) keep an empty location id and are held by ingest until staff
    map them."""
    if line_items is None:
        line_items = _nodes(order, "lineItems")
    if refunds is None:
        refunds = [r for r in order.get("refunds") or [] if "refundLineItems" in r]
    occurred = parse_time(order.get("processedAt") or order.get("createdAt"))
    updated = parse_time(order.get("updatedAt"))
    state = _order_state(order)
    location = numeric_id((order.get("retailLocation") or order.get("physicalLocation") or {}).get("id"))
    returned = given_back(refunds)
    lines = []
    for line in line_items:
        money = ((line.get("originalUnitPriceSet") or {}).get("shopMoney")) or {}
        line_id = numeric_id(line["id"])
        lines.append(
            SaleLine(
                order_external_id=numeric_id(order["id"]),
                line_external_id=line_id,
                location_external_id=location,
                item_external_id=numeric_id((line.get("variant") or {}).get("id")),
                sku=(line.get("sku") or "").strip(),
                quantity=sold_quantity(line.get("quantity"), line.get("currentQuantity"), returned.get(line_id, 0)),
                occurred_at=occurred,
                unit_price=Decimal(money["amount"]) if money.get("amount") is not None else None,
                currency=money.get("currencyCode") or order.get("currencyCode") or "",
                order_updated_at=updated,
                state=state,
            )
        )
    sold = {line.line_external_id: line for line in lines}
    for refund in refunds:
        lines.extend(map_refund(refund, numeric_id(order["id"]), location, sold, order.get("currencyCode") or ""))
    return lines


def map_refund(refund: dict, order_id: str, location: str, sold: dict[str, SaleLine], currency: str
               ) -> list[SaleLine]:
    """A refund's lines that gave goods back -> negative 'refunded' lines of their own order (the refund's id),
    each keyed by its refund line id and linked to the sold line, at the sale's location."""
    # createdAt is both times (as the REST payload gives it): a refund's lines do not change after it is made.
    when = parse_time(refund.get("createdAt")) or parse_time(refund.get("processedAt"))
    refund_id = numeric_id(refund["id"])
    lines = []
    for rl in _nodes(refund, "refundLineItems"):
        if str(rl.get("restockType") or "").upper() == NOT_A_RETURN or not rl.get("quantity"):
            continue
        of_line = numeric_id((rl.get("lineItem") or {}).get("id"))
        line = sold.get(of_line)
        money = ((rl.get("priceSet") or {}).get("shopMoney")) or {}
        lines.append(SaleLine(
            order_external_id=refund_id,
            # RefundLineItem.id is nullable in the schema: the sold line's id is unique within one refund.
            line_external_id=numeric_id(rl.get("id")) or f"{refund_id}-{of_line}",
            location_external_id=location,
            item_external_id=line.item_external_id if line else "",
            sku=line.sku if line else "",
            quantity=-Decimal(str(rl["quantity"])),
            occurred_at=when,
            unit_price=Decimal(money["amount"]) if money.get("amount") is not None else (line.unit_price if line
                                                                                        else None),
            currency=money.get("currencyCode") or currency,
            order_updated_at=when,
            state="refunded",
            refund_of_order_id=order_id,
            refund_of_line_id=of_line,
        ))
    return lines
