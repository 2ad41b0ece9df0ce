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


def map_order(order: dict, line_items: list[dict] | None = None) -> list[SaleLine]:
    """One SaleLine per line item. ``currentQuantity`` (after edits and removals) wins over the ordered
    ``quantity``, so an edited order updates its stored lines. Orders without a retail location (online orders)
    keep an empty location id and are held by ingest until staff map them."""
    if line_items is None:
        line_items = (order.get("lineItems") or {}).get("nodes") or []
    occurred = parse_time(order.get("processedAt") or order.get("createdAt"))
    updated = parse_time(order.get("updatedAt"))
    state = _order_state(order)
    location = numeric_id((order.get("retailLocation") or order.get("physicalLocation") or {}).get("id"))
    lines = []
    for line in line_items:
        money = ((line.get("originalUnitPriceSet") or {}).get("shopMoney")) or {}
        quantity = line.get("currentQuantity")
        if quantity is None:
            quantity = line.get("quantity", 0)
        lines.append(
            SaleLine(
                order_external_id=numeric_id(order["id"]),
                line_external_id=numeric_id(line["id"]),
                location_external_id=location,
                item_external_id=numeric_id((line.get("variant") or {}).get("id")),
                sku=(line.get("sku") or "").strip(),
                quantity=Decimal(str(quantity)),
                occurred_at=occurred,
                unit_price=Decimal(money["amount"]) if money.get("amount") is not None else None,
                currency=money.get("currencyCode") or order.get("currencyCode") or "",
                order_updated_at=updated,
                state=state,
            )
        )
    return lines
