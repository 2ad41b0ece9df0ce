"""Square JSON -> normalized records. Pure functions, no I/O (provider-facts 1.4).

Quantities are decimal strings ("1.5") and become Decimals; money is ``{"amount": <minor units>, "currency"}`` and
becomes a Decimal in major units using the currency's exponent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from integrations.sync.streams import parse_time
from inventory.records import Item, Location, SaleLine, StockLevel

# ISO 4217 minor-unit exponents that are not 2 (everything else has cents).
_EXPONENT = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}

# Square inventory states -> our quantity fields. IN_STOCK is the physical, sellable count, so it is both
# available and on hand (as the inventory.count.updated webhook handler reads it); other states (SOLD, WASTE,
# NONE...) are history, not stock.
_STATE_FIELDS = {"IN_STOCK": ("available", "on_hand"), "RESERVED_FOR_SALE": ("committed",),
                 "IN_TRANSIT_TO": ("incoming",)}
STOCK_STATES = list(_STATE_FIELDS)
_ORDER_STATE = {"OPEN": "open", "COMPLETED": "completed", "CANCELED": "cancelled"}


def money_to_decimal(money: dict | None) -> tuple[Decimal | None, str]:
    """``{"amount": 1999, "currency": "USD"}`` -> (Decimal("19.99"), "USD"); JPY 500 -> 500; KWD 1500 -> 1.5."""
    if not money or money.get("amount") is None:
        return None, (money or {}).get("currency", "")
    currency = money.get("currency", "")
    exponent = _EXPONENT.get(currency, 2)
    return Decimal(int(money["amount"])).scaleb(-exponent), currency


def _address(address: dict | None) -> str:
    if not address:
        return ""
    parts = [address.get("address_line_1"), address.get("address_line_2"), address.get("locality"),
             address.get("administrative_district_level_1"), address.get("postal_code"), address.get("country")]
    return ", ".join(p for p in parts if p)


def map_location(obj: dict) -> Location:
    return Location(
        external_id=obj["id"],
        name=obj.get("name") or obj["id"],
        timezone=obj.get("timezone") or "",
        address=_address(obj.get("address")),
        active=obj.get("status", "ACTIVE") == "ACTIVE",
        updated_at=parse_time(obj.get("created_at")),
    )


def _variation(obj: dict, item_names: dict[str, str], deleted_items: set[str]) -> Item:
    data = obj.get("item_variation_data") or {}
    item_id = data.get("item_id", "")
    item_name = item_names.get(item_id, "")
    variation_name = data.get("name") or ""
    name = f"{item_name} - {variation_name}" if item_name and variation_name else (item_name or variation_name)
    return Item(
        external_id=obj["id"],
        sku=(data.get("sku") or "").strip(),
        # Square calls it UPC in the API and "GTIN" in its UI; there is no separate gtin field.
        barcode=(data.get("upc") or "").strip(),
        name=name or obj["id"],
        deleted=bool(obj.get("is_deleted")) or item_id in deleted_items,
        updated_at=parse_time(obj.get("updated_at")),
    )


def map_catalog_objects(objects: Iterable[dict], related: Iterable[dict] = ()) -> list[Item]:
    """ITEM and ITEM_VARIATION objects (from search, related objects giving parent names) -> one Item per
    variation. An ITEM's nested variations count too, and a deleted ITEM deletes its variations."""
    objects = list(objects)
    item_names: dict[str, str] = {}
    deleted_items: set[str] = set()
    for obj in [*related, *objects]:
        if obj.get("type") == "ITEM":
            item_names[obj["id"]] = (obj.get("item_data") or {}).get("name") or ""
            if obj.get("is_deleted"):
                deleted_items.add(obj["id"])
    variations: dict[str, dict] = {}
    for obj in objects:
        if obj.get("type") == "ITEM_VARIATION":
            candidates = [obj]
        elif obj.get("type") == "ITEM":
            nested = (obj.get("item_data") or {}).get("variations") or []
            candidates = [{**v, "is_deleted": v.get("is_deleted") or obj.get("is_deleted")} for v in nested]
        else:
            continue
        for var in candidates:
            seen = variations.get(var["id"])
            if seen is None or (var.get("updated_at") or "") >= (seen.get("updated_at") or ""):
                variations[var["id"]] = var
    return [_variation(v, item_names, deleted_items) for v in variations.values()]


def map_inventory_counts(counts: Iterable[dict]) -> list[StockLevel]:
    """InventoryCount objects (one per state) -> one StockLevel per (location, variation), states merged.
    A state not in the batch stays None, which ingest reads as "not reported" and keeps the stored value."""
    merged: dict[tuple[str, str], dict] = {}
    for count in counts:
        field_names = _STATE_FIELDS.get(count.get("state", ""))
        if field_names is None or count.get("catalog_object_type", "ITEM_VARIATION") != "ITEM_VARIATION":
            continue
        key = (count["location_id"], count["catalog_object_id"])
        entry = merged.setdefault(key, {"as_of": None})
        for field_name in field_names:
            entry[field_name] = Decimal(count.get("quantity") or "0")
        calculated = parse_time(count.get("calculated_at"))
        if calculated and (entry["as_of"] is None or calculated > entry["as_of"]):
            entry["as_of"] = calculated
    return [
        StockLevel(location_external_id=loc, item_external_id=item, **values)
        for (loc, item), values in merged.items()
        if values["as_of"] is not None
    ]


def map_order(order: dict) -> list[SaleLine]:
    """One SaleLine per line item. Custom-amount lines have no catalog id (no item): they keep an empty item id
    and are held by ingest rather than dropped. DRAFT orders are not sales yet and map to nothing."""
    state = _ORDER_STATE.get(order.get("state", ""))
    if state is None:
        return []
    occurred = parse_time(order.get("closed_at") or order.get("created_at"))
    updated = parse_time(order.get("updated_at"))
    lines = []
    for position, line in enumerate(order.get("line_items") or []):
        price, currency = money_to_decimal(line.get("base_price_money"))
        lines.append(
            SaleLine(
                order_external_id=order["id"],
                line_external_id=line.get("uid") or f"#{position}",
                location_external_id=order.get("location_id", ""),
                item_external_id=line.get("catalog_object_id") or "",
                quantity=Decimal(line.get("quantity") or "0"),
                occurred_at=occurred,
                unit_price=price,
                currency=currency,
                order_updated_at=updated,
                state=state,
            )
        )
    return lines
