"""SuiteQL rows -> normalized records. Pure functions, no I/O (provider-facts 3.3).

SuiteQL rows hold lower-cased columns, values as JSON strings or numbers, and *leave out* null columns, so every
read is a ``.get``. Booleans are ``"T"``/``"F"``. Times arrive in the session zone in ``queries`` formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation

from inventory.records import Deletion, Item, Location, SaleLine, StockLevel

from .queries import PY_TIMESTAMP_FORMAT, SALES_ORDER

# Sales order statuses (transaction.status letters): A pending approval, B pending fulfilment, C cancelled,
# D partially fulfilled, E pending billing/partially fulfilled, F pending billing, G billed, H closed.
_SALES_ORDER_STATE = {"A": "open", "B": "open", "C": "cancelled", "D": "open", "E": "open", "F": "open",
                      "G": "completed", "H": "completed"}


def flag(value) -> bool:
    return str(value or "").strip().upper() in ("T", "TRUE", "Y")


def decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def local_time(value, zone: tzinfo) -> datetime | None:
    """A ``TO_CHAR`` timestamp in the session zone -> aware datetime."""
    if not value:
        return None
    return datetime.strptime(str(value), PY_TIMESTAMP_FORMAT).replace(tzinfo=zone)


def local_date(value, zone: tzinfo) -> datetime | None:
    if not value:
        return None
    return datetime.combine(datetime.strptime(str(value), "%Y-%m-%d").date(), time.min, tzinfo=zone)


def to_session_time(moment: datetime, zone: tzinfo) -> datetime:
    """An aware datetime as the naive wall-clock time of the session zone (what ``TO_TIMESTAMP`` compares)."""
    return moment.astimezone(zone).replace(tzinfo=None)


def map_location(row: dict, zone: tzinfo = UTC) -> Location:
    return Location(
        external_id=str(row["id"]),
        name=row.get("fullname") or row.get("name") or str(row["id"]),
        address=str(row.get("address") or ""),
        active=not flag(row.get("isinactive")),
        updated_at=local_time(row.get("lastmodified"), zone),
    )


def map_item(row: dict, zone: tzinfo = UTC) -> Item:
    sku = str(row.get("itemid") or "").strip()
    return Item(
        external_id=str(row["id"]),
        sku=sku,
        barcode=str(row.get("upccode") or "").strip(),
        name=row.get("displayname") or sku or str(row["id"]),
        # Inactive items can no longer be sold; NetSuite deletions never show in SuiteQL at all.
        deleted=flag(row.get("isinactive")),
        updated_at=local_time(row.get("lastmodified"), zone),
    )


def map_stock(row: dict, as_of: datetime) -> StockLevel:
    # A row exists per item and location; an empty quantity column means zero (NetSuite omits nulls).
    def qty(column):
        return decimal(row.get(column)) or Decimal(0)

    return StockLevel(
        location_external_id=str(row["location"]),
        item_external_id=str(row["item"]),
        as_of=as_of,
        on_hand=qty("quantityonhand"),
        available=qty("quantityavailable"),
        committed=qty("quantitycommitted"),
        incoming=qty("quantityonorder"),
    )


def sale_state(header: dict) -> str:
    if flag(header.get("voided")):
        return "cancelled"
    if header.get("type") == SALES_ORDER:
        return _SALES_ORDER_STATE.get(str(header.get("status") or "").upper(), "open")
    return "completed"  # cash sales and invoices record a completed sale


def map_sale_line(header: dict, line: dict, zone: tzinfo = UTC) -> SaleLine:
    # NetSuite stores the item lines of sales with negative quantities and amounts (stock goes out, income is a
    # credit): a sale of 2 is quantity -2, amount -19.98. Negate both so a sale counts positive.
    stored_qty = decimal(line.get("quantity")) or Decimal(0)
    quantity = -stored_qty
    amount = decimal(line.get("foreignamount"))  # in the transaction's currency (netamount is the base currency)
    rate = decimal(line.get("rate"))
    if rate is not None:
        unit_price = abs(rate)
    elif amount is not None and quantity:
        unit_price = abs(-amount / quantity)
    else:
        unit_price = None
    return SaleLine(
        order_external_id=str(header["id"]),
        line_external_id=str(line["id"]),
        location_external_id=str(line.get("location") or ""),
        item_external_id=str(line.get("item") or ""),
        quantity=quantity,
        occurred_at=local_date(header.get("trandate"), zone) or local_time(header.get("lastmodified"), zone),
        sku=str(line.get("sku") or ""),
        unit_price=unit_price,
        currency=str(header.get("currency") or ""),
        order_updated_at=local_time(header.get("lastmodified"), zone),
        state=sale_state(header),
    )


def map_sales(headers: Iterable[dict], lines: Iterable[dict], zone: tzinfo = UTC) -> list[SaleLine]:
    """Header rows plus their item lines -> one SaleLine per line (headers without item lines give none)."""
    by_id = {str(h["id"]): h for h in headers}
    return [map_sale_line(by_id[str(line["transaction"])], line, zone)
            for line in lines if str(line.get("transaction")) in by_id]


def map_deletion(row: dict, kind: str, zone: tzinfo = UTC) -> Deletion:
    """A DeletedRecord row -> the item or location it names, with NetSuite's deletion time."""
    return Deletion(kind=kind, external_id=str(row["recordid"]), deleted_at=local_time(row.get("deleted"), zone))
