"""ShipBob JSON -> normalized records. Pure functions, used by the sync streams and the webhook handlers alike.

- A fulfilment centre is a warehouse ``Location`` (ShipBob's id; its time zone is a Windows name, kept as given).
- An item is an inventory item (``inventory_id``: what stock levels and shipments refer to), named, SKU'd and
  barcoded by its product variant.
- Stock per fulfilment centre: on hand, committed, fulfillable (= available) and awaiting (= incoming: units on
  receiving orders not yet stowed).
- A shipment's inventory items become outbound lines of kind ``shipment`` (not a store sale), dated when the
  shipment left the fulfilment centre; a cancelled shipment's lines are cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from integrations.sync.streams import parse_time
from inventory.records import Item, Location, SaleLine, StockLevel

SHIPPED = {"Completed", "Delivered", "Shipped", "LabeledCreated", "InTransit", "OutForDelivery"}


def _time(value) -> datetime | None:
    if not value:
        return None
    parsed = parse_time(str(value))
    if parsed is not None and parsed.tzinfo is None:  # ShipBob history times come without an offset: UTC
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def map_fulfilment_centre(fc: dict) -> Location:
    parts = [fc.get("address1"), fc.get("address2"), fc.get("city"), fc.get("state"), fc.get("zip_code"),
             fc.get("country")]
    return Location(external_id=str(fc["id"]), name=fc.get("name") or str(fc["id"]),
                    timezone=fc.get("timezone") or "", address=", ".join(p for p in parts if p),
                    kind="warehouse")


def map_products(products: Iterable[dict]) -> list[Item]:
    items = []
    for product in products:
        for variant in product.get("variants") or []:
            inventory = (variant.get("inventory") or {}).get("inventory_id")
            if inventory is None:  # a bundle or digital variant: no stock of its own
                continue
            items.append(Item(
                external_id=str(inventory), sku=(variant.get("sku") or "").strip(),
                barcode=(variant.get("upc") or variant.get("gtin") or "").strip(),
                name=variant.get("name") or product.get("name") or "",
                deleted=variant.get("status") == "Inactive", updated_at=_time(variant.get("updated_on")),
                secondary_id=str(variant.get("id") or ""), parent_external_id=str(product.get("id") or "")))
    return items


def map_levels(levels: Iterable[dict], as_of: datetime) -> list[StockLevel]:
    out = []
    for level in levels:
        for row in level.get("locations") or []:
            out.append(StockLevel(
                location_external_id=str(row["location_id"]), item_external_id=str(level["inventory_id"]),
                as_of=as_of, on_hand=Decimal(int(row.get("on_hand_quantity") or 0)),
                committed=Decimal(int(row.get("committed_quantity") or 0)),
                available=Decimal(int(row.get("fulfillable_quantity") or 0)),
                incoming=Decimal(int(row.get("awaiting_quantity") or 0))))
    return out


def map_shipment(shipment: dict, order: dict | None = None) -> list[SaleLine]:
    """One shipment's lines. ``order`` (when known) gives the order's prices; webhooks carry the shipment alone."""
    status = shipment.get("status") or ""
    cancelled = status == "Cancelled"
    if not cancelled and status not in SHIPPED:
        return []  # not left the fulfilment centre yet: nothing went out
    location = str((shipment.get("location") or {}).get("id") or "")
    occurred = _time(shipment.get("actual_fulfillment_date")) or _time(shipment.get("created_date"))
    updated = _time(shipment.get("last_update_at")) or occurred
    prices = {str(p.get("sku")): p.get("unit_price") for p in (order or {}).get("products") or []}
    order_id = str(shipment.get("order_id") or (order or {}).get("id") or "")
    lines = []
    for product in shipment.get("products") or []:
        for item in product.get("inventory_items") or []:
            price = prices.get(str(product.get("sku")))
            lines.append(SaleLine(
                order_external_id=f"{order_id}/{shipment['id']}", line_external_id=f"{shipment['id']}:{item['id']}",
                location_external_id=location, item_external_id=str(item["id"]),
                quantity=Decimal(int(item.get("quantity") or 0)), occurred_at=occurred, sku=product.get("sku") or "",
                unit_price=Decimal(str(price)) if price is not None else None, currency="USD" if price else "",
                order_updated_at=updated, state="cancelled" if cancelled else "completed", kind="shipment"))
    return lines


def map_order(order: dict) -> list[SaleLine]:
    return [line for shipment in order.get("shipments") or [] for line in map_shipment(shipment, order)]
