"""Order webhook payloads (REST-style JSON, numeric ids) -> the SaleLines the GraphQL sync makes of the same order.

The same rules as ``mappers.map_order``: the sold line keeps what was sold (``current_quantity`` plus the units a
refund gave back), and each refund line that gave goods back is a negative line keyed by its own id and linked to
the sold line. An order webhook carries its ``refunds``, so ``orders/updated`` after a refund and the sync agree.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime

from integrations.webhooks.base import PermanentWebhookError

from .mappers import NOT_A_RETURN, given_back, sold_quantity


def _when(value, what: str):
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise PermanentWebhookError(f"{what} is not an ISO 8601 time: {value!r}")
    return parsed


def _decimal(value, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PermanentWebhookError(f"{what} is not a number: {value!r}")


def _id(value) -> str:
    return "" if value is None else str(value)


def _order_state(order: dict) -> str:
    """As the GraphQL sync reads it (mappers._order_state), from the REST-style fields."""
    if order.get("cancelled_at"):
        return "cancelled"
    status = order.get("financial_status")
    return "refunded" if status == "refunded" else "open" if status in ("pending", "authorized") else "completed"


def _refund_lines(refund) -> list:
    if not isinstance(refund, dict):
        raise PermanentWebhookError("order refunds must be objects")
    return refund.get("refund_line_items") or []


def order_sale_lines(order: dict) -> list:
    """An order payload -> SaleLines (sold lines, then refund lines). Online orders have no location id and are
    held by ingest."""
    from inventory.records import SaleLine

    if "id" not in order or "line_items" not in order:
        raise PermanentWebhookError("order payload has no id or line_items")
    order_id = _id(order["id"])
    state = _order_state(order)
    occurred_at = _when(order.get("processed_at") or order.get("created_at"), f"order {order_id} time")
    updated_at = _when(order["updated_at"], "order updated_at") if order.get("updated_at") else None
    refunds = order.get("refunds") or []
    if not isinstance(refunds, list):
        raise PermanentWebhookError("order refunds is not a list")
    try:
        returned = given_back(refunds, restock_type=lambda rl: rl.get("restock_type"),
                              line_id=lambda rl: _id(rl.get("line_item_id")), lines=_refund_lines)
    except (TypeError, ValueError, AttributeError) as exc:
        raise PermanentWebhookError(f"order {order_id} refund lines unreadable: {exc}") from None
    location = _id(order.get("location_id"))
    currency = order.get("currency") or ""
    lines = []
    for line in order["line_items"]:
        line_id = _id(line["id"])
        quantity = _decimal(line.get("quantity"), f"order {order_id} line quantity")
        current = _decimal(line.get("current_quantity"), f"order {order_id} line current_quantity")
        lines.append(
            SaleLine(
                order_external_id=order_id,
                line_external_id=line_id,
                location_external_id=location,
                item_external_id=_id(line.get("variant_id")),
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
        lines.extend(refund_sale_lines(refund, order_id, location, sold, currency))
    return lines


def refund_sale_lines(refund: dict, order_id: str, location: str, sold: dict, currency: str) -> list:
    """A REST refund (in an order payload) -> negative lines, as ``mappers.map_refund`` makes of the GraphQL one."""
    from inventory.records import SaleLine

    refund_id = _id(refund.get("id"))
    when = _when(refund.get("created_at") or refund.get("processed_at"), f"refund {refund_id} created_at")
    lines = []
    for rl in _refund_lines(refund):
        quantity = _decimal(rl.get("quantity"), f"refund {refund_id} quantity")
        if str(rl.get("restock_type") or "").upper() == NOT_A_RETURN or not quantity:
            continue
        of_line = _id(rl.get("line_item_id"))
        line = sold.get(of_line)
        subtotal = _decimal(rl.get("subtotal"), f"refund {refund_id} subtotal")
        # GraphQL's priceSet is the unit price; REST gives the line's subtotal (unit price x quantity).
        unit = (subtotal / quantity).quantize(Decimal("0.0001")) if subtotal is not None else (
            line.unit_price if line else None)
        lines.append(SaleLine(
            order_external_id=refund_id,
            line_external_id=_id(rl.get("id")) or f"{refund_id}-{of_line}",
            location_external_id=location,
            item_external_id=line.item_external_id if line else _id((rl.get("line_item") or {}).get("variant_id")),
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
