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

# Square inventory states (InventoryState in the pinned Square-Version) -> our quantity fields. States are disjoint
# quantities: IN_STOCK is on hand and for sale (available), RESERVED_FOR_SALE on hand but not for sale (committed),
# IN_TRANSIT units moving between locations (incoming; IN_TRANSIT_TO is its deprecated name in older versions).
# on_hand = IN_STOCK + RESERVED_FOR_SALE (map_inventory_counts).
_STATE_FIELDS = {"IN_STOCK": "available", "RESERVED_FOR_SALE": "committed", "IN_TRANSIT": "incoming",
                 "IN_TRANSIT_TO": "incoming"}
# Every other state, and why it is not stock at a location. The mapper skips these on purpose; a state in neither
# table (a newer Square-Version) is skipped too, and a test keeps both tables equal to the SDK's InventoryState.
NOT_STOCK_STATES = {
    "SOLD": "sold, no longer tracked", "SOLD_ONLINE": "sold online", "WASTE": "lost or damaged",
    "NONE": "not tracked (the source of new stock)", "UNLINKED_RETURN": "returned, not linked, not tracked",
    "CUSTOM": "a seller-defined state outside stock", "RETURNED_BY_CUSTOMER": "returned, not yet sellable",
    "ORDERED_FROM_VENDOR": "on a purchase order, not at any location yet",
    "RECEIVED_FROM_VENDOR": "received, not yet sellable", "COMPOSED": "part of a composition (beta)",
    "DECOMPOSED": "part of a component (beta)", "UNTRACKED": "not tracked",
    "SUPPORTED_BY_NEWER_VERSION": "a state this Square-Version cannot name",
}
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
    A state not in the batch stays None, which ingest reads as "not reported" and keeps the stored value.
    on_hand is IN_STOCK plus RESERVED_FOR_SALE; a batch without RESERVED_FOR_SALE (a sale moves only IN_STOCK)
    counts it as 0, which is right for the usual seller with nothing reserved and is corrected by the next batch
    that carries it (a full sync or the reconciliation snapshot reads every state)."""
    merged: dict[tuple[str, str], dict] = {}
    for count in counts:
        field_name = _STATE_FIELDS.get(count.get("state", ""))
        if field_name is None or count.get("catalog_object_type", "ITEM_VARIATION") != "ITEM_VARIATION":
            continue
        key = (count["location_id"], count["catalog_object_id"])
        entry = merged.setdefault(key, {"as_of": None})
        # IN_TRANSIT and IN_TRANSIT_TO both feed incoming: add, so neither hides the other.
        entry[field_name] = entry.get(field_name, Decimal(0)) + Decimal(count.get("quantity") or "0")
        calculated = parse_time(count.get("calculated_at"))
        if calculated and (entry["as_of"] is None or calculated > entry["as_of"]):
            entry["as_of"] = calculated
    for entry in merged.values():
        if "available" in entry:
            entry["on_hand"] = entry["available"] + entry.get("committed", Decimal(0))
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
    return lines + _return_lines(order, occurred, updated)


def _return_lines(order: dict, occurred, updated) -> list[SaleLine]:
    """An itemized refund is its own order at Square whose ``returns[].return_line_items`` give back lines of
    the sold order (``source_order_id`` + ``source_line_item_uid``). Each becomes a negative line of this order,
    keyed by its own uid, so a redelivery or a later update of either order stores it once."""
    lines = []
    for ret in order.get("returns") or []:
        for position, item in enumerate(ret.get("return_line_items") or []):
            price, currency = money_to_decimal(item.get("base_price_money"))
            lines.append(SaleLine(
                order_external_id=order["id"],
                line_external_id=item.get("uid") or f"return-{ret.get('uid', '')}#{position}",
                location_external_id=order.get("location_id", ""),
                item_external_id=item.get("catalog_object_id") or "",
                quantity=-Decimal(item.get("quantity") or "0"),
                occurred_at=occurred,
                unit_price=price,
                currency=currency,
                order_updated_at=updated,
                state="refunded",
                refund_of_order_id=ret.get("source_order_id") or "",
                refund_of_line_id=item.get("source_line_item_uid") or "",
            ))
    return lines
