"""Shopify JSON -> normalized records, for the sync (GraphQL Admin API nodes) and for webhooks (REST-style
payloads). Pure functions, no I/O (provider-facts 2.4). Both shapes share the rules (order state, variant names,
ids), so a webhook and a sync of the same object produce the same records.

Ids: GraphQL returns GIDs (``gid://shopify/ProductVariant/123``); records carry the numeric tail, which is also
what REST-style webhook payloads carry (``variant_id``, ``inventory_item_id``, ``location_id``), so a webhook and a
sync of the same object land on the same row. Variants carry their inventory item id as ``secondary_id``; stock
levels refer to that id (``item_id_is_secondary``). Money comes as decimal strings in ``shopMoney``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime

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


def variant_name(product_title: str, variant_title: str) -> str:
    """"Tee - Red / M", or just the product title for its only (default) variant."""
    if not variant_title or variant_title == DEFAULT_VARIANT_TITLE:
        return product_title
    return f"{product_title} - {variant_title}"


def map_variant(node: dict) -> Item:
    product_title = (node.get("product") or {}).get("title") or ""
    title = node.get("title") or ""
    name = variant_name(product_title, title)
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


def order_state(*, cancelled: bool, financial_status: str | None) -> str:
    """The sale state of an order, from GraphQL (``cancelledAt``, ``displayFinancialStatus``) or webhook
    (``cancelled_at``, ``financial_status``) fields: one rule for both."""
    status = (financial_status or "").upper()
    if cancelled:
        return "cancelled"
    if status == "REFUNDED":
        return "refunded"
    if status in ("PENDING", "AUTHORIZED"):
        return "open"
    return "completed"


def _order_state(order: dict) -> str:
    return order_state(cancelled=bool(order.get("cancelledAt")), financial_status=order.get("displayFinancialStatus"))


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


# --- Webhook payloads (REST-style JSON, numeric ids) ------------------------------------------------------------
class PayloadError(ValueError):
    """A webhook payload that cannot be read as the records it should carry (its event fails for good)."""


def _when(value, what: str):
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise PayloadError(f"{what} is not an ISO 8601 time: {value!r}")
    return parsed


def _decimal(value, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PayloadError(f"{what} is not a number: {value!r}")


def payload_id(value) -> str:
    return "" if value is None else str(value)


def map_order_payload(order: dict) -> list[SaleLine]:
    """A webhook order payload -> SaleLines, the same lines ``map_order`` produces for it from GraphQL:
    ``current_quantity`` (after edits, removals, cancellation) wins over the ordered ``quantity``, so an edit or a
    cancellation changes the stored lines in place. Online orders have no location id and are held by ingest."""
    if "id" not in order or "line_items" not in order:
        raise PayloadError("order payload has no id or line_items")
    order_id = payload_id(order["id"])
    state = order_state(cancelled=bool(order.get("cancelled_at")), financial_status=order.get("financial_status"))
    occurred_at = _when(order.get("processed_at") or order.get("created_at"), f"order {order_id} time")
    updated_at = _when(order["updated_at"], "order updated_at") if order.get("updated_at") else None
    lines = []
    for line in order["line_items"]:
        quantity = line.get("current_quantity")
        if quantity is None:
            quantity = line.get("quantity")
        lines.append(
            SaleLine(
                order_external_id=order_id,
                line_external_id=payload_id(line["id"]),
                location_external_id=payload_id(order.get("location_id")),
                item_external_id=payload_id(line.get("variant_id")),
                quantity=_decimal(quantity, f"order {order_id} line quantity") or Decimal(0),
                occurred_at=occurred_at,
                sku=(line.get("sku") or "").strip(),
                unit_price=_decimal(line.get("price"), f"order {order_id} line price"),
                currency=order.get("currency") or "",
                order_updated_at=updated_at,
                state=state,
            )
        )
    return lines


def map_product_payload(product: dict) -> list[Item]:
    """A webhook product payload -> one Item per variant (as ``map_variant``)."""
    title = product.get("title") or ""
    items = []
    for variant in product.get("variants") or []:
        variant_title = variant.get("title") or ""
        name = variant_name(title, variant_title)
        updated = variant.get("updated_at") or product.get("updated_at")
        items.append(
            Item(
                external_id=payload_id(variant["id"]),
                sku=variant.get("sku") or "",
                barcode=variant.get("barcode") or "",
                name=name[:500],
                updated_at=_when(updated, "variant updated_at") if updated else None,
                secondary_id=payload_id(variant.get("inventory_item_id")),
                parent_external_id=payload_id(product.get("id")),
            )
        )
    return items


def map_inventory_level_payload(payload: dict) -> StockLevel:
    """A webhook inventory level payload (``available`` only) -> StockLevel (as ``map_inventory_level``)."""
    for key in ("inventory_item_id", "location_id", "updated_at"):
        if payload.get(key) is None:
            raise PayloadError(f"inventory level payload has no {key}")
    return StockLevel(
        location_external_id=payload_id(payload["location_id"]),
        item_external_id=payload_id(payload["inventory_item_id"]),
        item_id_is_secondary=True,
        available=_decimal(payload.get("available"), "available"),
        as_of=_when(payload["updated_at"], "updated_at"),
    )
