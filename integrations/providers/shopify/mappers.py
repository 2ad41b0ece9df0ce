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


def _refund_lines(refund) -> list:
    if not isinstance(refund, dict):
        raise PayloadError("order refunds must be objects")
    return refund.get("refund_line_items") or []


def map_order_payload(order: dict) -> list[SaleLine]:
    """A webhook order payload -> the SaleLines ``map_order`` makes of the same order from GraphQL (sold lines,
    then refund lines): the sold line keeps what was sold (``current_quantity`` plus the units a refund gave back)
    and each refund line that gave goods back is a negative line keyed by its own id, linked to the sold line. An
    order payload carries its ``refunds``, so ``orders/updated`` after a refund and the sync agree. Online orders
    have no location id and are held by ingest."""
    if "id" not in order or "line_items" not in order:
        raise PayloadError("order payload has no id or line_items")
    order_id = payload_id(order["id"])
    state = order_state(cancelled=bool(order.get("cancelled_at")), financial_status=order.get("financial_status"))
    occurred_at = _when(order.get("processed_at") or order.get("created_at"), f"order {order_id} time")
    updated_at = _when(order["updated_at"], "order updated_at") if order.get("updated_at") else None
    refunds = order.get("refunds") or []
    if not isinstance(refunds, list):
        raise PayloadError("order refunds is not a list")
    try:
        returned = given_back(refunds, restock_type=lambda rl: rl.get("restock_type"),
                              line_id=lambda rl: payload_id(rl.get("line_item_id")), lines=_refund_lines)
    except (TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(f"order {order_id} refund lines unreadable: {exc}") from None
    location = payload_id(order.get("location_id"))
    currency = order.get("currency") or ""
    lines = []
    for line in order["line_items"]:
        line_id = payload_id(line["id"])
        quantity = _decimal(line.get("quantity"), f"order {order_id} line quantity")
        current = _decimal(line.get("current_quantity"), f"order {order_id} line current_quantity")
        lines.append(
            SaleLine(
                order_external_id=order_id,
                line_external_id=line_id,
                location_external_id=location,
                item_external_id=payload_id(line.get("variant_id")),
                quantity=sold_quantity(quantity, current, returned.get(line_id, 0)),
                occurred_at=occurred_at,
                sku=(line.get("sku") or "").strip(),
                unit_price=_decimal(line.get("price"), f"order {order_id} line price"),
                currency=currency,
                order_updated_at=updated_at,
                state=state,
            )
        )
    sold = {line.line_external_id: line for line in lines}
    for refund in refunds:
        lines.extend(map_refund_payload(refund, order_id, location, sold, currency))
    return lines


def map_refund_payload(refund: dict, order_id: str, location: str, sold: dict, currency: str) -> list[SaleLine]:
    """A REST refund (in an order payload) -> negative lines, as ``map_refund`` makes of the GraphQL one."""
    refund_id = payload_id(refund.get("id"))
    when = _when(refund.get("created_at") or refund.get("processed_at"), f"refund {refund_id} created_at")
    lines = []
    for rl in _refund_lines(refund):
        quantity = _decimal(rl.get("quantity"), f"refund {refund_id} quantity")
        if str(rl.get("restock_type") or "").upper() == NOT_A_RETURN or not quantity:
            continue
        of_line = payload_id(rl.get("line_item_id"))
        line = sold.get(of_line)
        subtotal = _decimal(rl.get("subtotal"), f"refund {refund_id} subtotal")
        # GraphQL's priceSet is the unit price; REST gives the line's subtotal (unit price x quantity).
        unit = (subtotal / quantity).quantize(Decimal("0.0001")) if subtotal is not None else (
            line.unit_price if line else None)
        variant = line.item_external_id if line else payload_id((rl.get("line_item") or {}).get("variant_id"))
        lines.append(SaleLine(
            order_external_id=refund_id,
            line_external_id=payload_id(rl.get("id")) or f"{refund_id}-{of_line}",
            location_external_id=location,
            item_external_id=variant,
            sku=line.sku if line else "",
            quantity=-quantity,
            occurred_at=when,
            unit_price=unit,
            currency=currency,
            order_updated_at=when,
            state="refunded",
            refund_of_order_id=order_id,
            refund_of_line_id=of_line,
        ))
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
