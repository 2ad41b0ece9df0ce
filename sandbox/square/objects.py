"""Square JSON objects (Location, CatalogObject, InventoryCount, Order) and webhook envelopes, built from the
generated merchant data in the shapes of the Square API (provider-facts 1.3, 1.4)."""

from __future__ import annotations

import uuid
from functools import lru_cache

from ..data import Merchant, Order, Stock, Variant, dt_to_ms, rfc3339
from .common import make_id, merchant_id, parse_id


@lru_cache(maxsize=1 << 16)
def _catalog_id(seed: str, kind: str, index: int, length: int) -> str:
    # Location, item and variation ids recur on every order line of a page (a blake2b and a base32 each time);
    # order ids are each needed once per order, so they are not cached.
    return make_id(seed, kind, index, length)


class SquareIds:
    """Square ids for one merchant: locations, items, variations and orders, all reversible to indexes."""

    def __init__(self, merchant: Merchant):
        self.seed = merchant.seed
        self.merchant = merchant

    def location(self, index: int) -> str:
        return _catalog_id(self.seed, "L", index, 13)

    def item(self, product_index: int) -> str:
        return _catalog_id(self.seed, "I", product_index, 24)

    def variation(self, index: int) -> str:
        return _catalog_id(self.seed, "V", index, 24)

    def order(self, index: int) -> str:
        return make_id(self.seed, "O", index, 29)

    def location_index(self, value: str) -> int | None:
        index = parse_id(self.seed, "L", value, 13)
        return index if index is not None and index < self.merchant.sizes.locations else None

    def variation_index(self, value: str) -> int | None:
        index = parse_id(self.seed, "V", value)
        return index if index is not None and index < self.merchant.sizes.variants else None

    def order_index(self, value: str) -> int | None:
        index = parse_id(self.seed, "O", value, 29)
        return index if index is not None and index < self.merchant.order_count else None


def money(cents: int, currency: str = "USD") -> dict:
    return {"amount": cents, "currency": currency}


def location_json(m: Merchant, index: int, merchant: str) -> dict:
    loc = m.location(index)
    return {
        "id": SquareIds(m).location(index), "name": loc.name, "business_name": "Sandbox Seller",
        "address": {"address_line_1": loc.street_line, "locality": loc.city,
                    "administrative_district_level_1": loc.region, "country": "US"},
        "timezone": loc.timezone, "capabilities": ["CREDIT_CARD_PROCESSING"], "status": "ACTIVE",
        "created_at": rfc3339(m.base_variant(0).updated_at), "merchant_id": merchant,
        "country": "US", "language_code": "en-US", "currency": m.currency, "type": "PHYSICAL",
    }


def variation_json(m: Merchant, v: Variant) -> dict:
    ids = SquareIds(m)
    return {
        "type": "ITEM_VARIATION", "id": ids.variation(v.index), "updated_at": rfc3339(v.updated_at),
        "version": dt_to_ms(v.updated_at), "is_deleted": v.deleted, "present_at_all_locations": True,
        "item_variation_data": {
            "item_id": ids.item(v.product_index), "name": v.name, "sku": v.sku, "upc": v.barcode,
            "ordinal": v.index % m.sizes.variants_per_product, "pricing_type": "FIXED_PRICING",
            "price_money": money(v.price_cents, m.currency), "track_inventory": True, "sellable": True,
            "stockable": True,
        },
    }


def item_json(m: Merchant, product_index: int) -> dict:
    per = m.sizes.variants_per_product
    variations = [m.variant(product_index * per + k) for k in range(per)]
    updated = max(v.updated_at for v in variations)
    return {
        "type": "ITEM", "id": SquareIds(m).item(product_index), "updated_at": rfc3339(updated),
        "version": dt_to_ms(updated), "is_deleted": False, "present_at_all_locations": True,
        "item_data": {"name": variations[0].product_name, "product_type": "REGULAR",
                      "variations": [variation_json(m, v) for v in variations]},
    }


# The states a stock row is served in (Square's InventoryState): IN_STOCK is what is available for sale, the
# reserved units are RESERVED_FOR_SALE (on hand, not for sale), and a transfer between locations holds units
# IN_TRANSIT (the state that replaced IN_TRANSIT_TO) until the destination receives them.
SERVED_STATES = ("IN_STOCK", "RESERVED_FOR_SALE", "IN_TRANSIT")


def in_transit(s: Stock) -> int:
    """A few (variant, location) pairs have a transfer on the way; derived, so it is the same on every read."""
    return 3 if (s.variant_index + 2 * s.location_index) % 7 == 0 else 0


def counts_json(m: Merchant, s: Stock, states=SERVED_STATES) -> list[dict]:
    """One InventoryCount per state of a stock row (IN_TRANSIT only while a transfer is on the way)."""
    ids = SquareIds(m)
    base = {"catalog_object_id": ids.variation(s.variant_index), "catalog_object_type": "ITEM_VARIATION",
            "location_id": ids.location(s.location_index), "calculated_at": rfc3339(s.updated_at),
            "is_estimated": False}
    quantities = {"IN_STOCK": s.available, "RESERVED_FOR_SALE": s.committed, "IN_TRANSIT": in_transit(s)}
    return [{**base, "state": state, "quantity": str(quantities[state])} for state in SERVED_STATES
            if state in states and (state != "IN_TRANSIT" or quantities[state])]


LINE_CACHE_MAX = 1 << 16


def _line_fields(m: Merchant, ids: SquareIds, variant_index: int) -> dict:
    """The fields of an order line that depend only on its variant, built once per variant object: an edited
    variant (a new object in the overlay) gets fresh fields, since the cache entry keeps the object it came from."""
    cache = m.render_cache.setdefault("square_line", {})
    v = m.variant(variant_index)
    entry = cache.get(variant_index)
    if entry is None or entry[0] is not v:
        if len(cache) >= LINE_CACHE_MAX:  # a 100k-variant catalogue would otherwise keep ~100 MB of these
            cache.clear()
        entry = cache[variant_index] = (v, {
            "catalog_object_id": ids.variation(v.index), "catalog_version": dt_to_ms(v.updated_at),
            "name": v.product_name, "variation_name": v.name, "item_type": "ITEM",
        })
    return entry[1]


# The newest few generated orders are still OPEN (a tab not yet paid), as a live seller always has some.
OPEN_ORDERS = 3


def order_state(m: Merchant, o: Order) -> str:
    if o.state == "COMPLETED" and m.sizes.orders - OPEN_ORDERS <= o.index < m.sizes.orders:
        return "OPEN"
    return o.state


def order_version(m: Merchant, o: Order) -> int:
    """Square increments an order's version on every change: created OPEN (1), paid and COMPLETED (2), then
    CANCELED (3)."""
    return {"OPEN": 1, "COMPLETED": 2, "CANCELED": 3}.get(order_state(m, o), 1)


def order_json(m: Merchant, o: Order) -> dict:
    ids = SquareIds(m)
    order_id = ids.order(o.index)
    zero = money(0, o.currency)
    lines = []
    for line in o.lines:
        total = money(line.quantity * line.unit_price_cents, o.currency)
        lines.append({
            "uid": line_uid(order_id, line.line_index), **_line_fields(m, ids, line.variant_index),
            "quantity": str(line.quantity), "base_price_money": money(line.unit_price_cents),
            "variation_total_price_money": total, "gross_sales_money": total,
            "total_tax_money": zero, "total_discount_money": zero, "total_money": total,
        })
    total = money(o.total_cents, o.currency)
    if o.returns:
        return _return_order_json(m, ids, o)
    return {
        "id": order_id, "location_id": ids.location(o.location_index), "source": {"name": "Sandbox POS"},
        "line_items": lines, "created_at": rfc3339(o.created_at), "updated_at": rfc3339(o.updated_at),
        **({} if order_state(m, o) == "OPEN" else {"closed_at": rfc3339(o.updated_at)}),
        "state": order_state(m, o), "version": order_version(m, o),
        "total_money": total, "total_tax_money": zero, "total_discount_money": zero, "total_tip_money": zero,
        "total_service_charge_money": zero,
        "net_amounts": {"total_money": total, "tax_money": zero, "discount_money": zero, "tip_money": zero,
                        "service_charge_money": zero},
    }


def line_uid(order_id: str, line_index: int) -> str:
    return f"{order_id[:10]}-{line_index}"


def _return_order_json(m: Merchant, ids: SquareIds, o: Order) -> dict:
    """An itemized refund as Square records it: its own COMPLETED order with no line items, whose ``returns``
    give back lines of the sold order (``source_order_id`` + ``source_line_item_uid``) and whose
    ``return_amounts`` carry the money."""
    order_id = ids.order(o.index)
    zero = money(0, o.currency)
    by_source: dict[int, list] = {}
    cents = 0
    for k, (src, line_index, qty) in enumerate(o.returns):
        line = m.order(src).lines[line_index]
        total = money(qty * line.unit_price_cents, o.currency)
        cents += qty * line.unit_price_cents
        by_source.setdefault(src, []).append({
            "uid": f"{order_id[:10]}-r{k}", "source_line_item_uid": line_uid(ids.order(src), line_index),
            **_line_fields(m, ids, line.variant_index), "quantity": str(qty),
            "base_price_money": money(line.unit_price_cents, o.currency), "variation_total_price_money": total,
            "gross_return_money": total, "total_tax_money": zero, "total_discount_money": zero, "total_money": total,
        })
    returns = [{"uid": f"{order_id[:10]}-ret{n}", "source_order_id": ids.order(src), "return_line_items": items}
               for n, (src, items) in enumerate(by_source.items())]
    total = money(cents, o.currency)
    return {
        "id": order_id, "location_id": ids.location(o.location_index), "source": {"name": "Sandbox POS"},
        "returns": returns, "created_at": rfc3339(o.created_at), "updated_at": rfc3339(o.updated_at),
        "closed_at": rfc3339(o.updated_at), "state": "COMPLETED", "version": 1,
        "return_amounts": {"total_money": total, "tax_money": zero, "discount_money": zero, "tip_money": zero,
                           "service_charge_money": zero},
        "total_money": zero, "total_tax_money": zero, "total_discount_money": zero, "total_tip_money": zero,
        "total_service_charge_money": zero,
    }


def refund_event(seed: str, m: Merchant, ret: Order, event_type: str = "refund.created") -> dict:
    """``refund.created``: the PaymentRefund, naming the return order it belongs to."""
    ids = SquareIds(m)
    order_id = ids.order(ret.index)
    cents = sum(q * m.order(src).lines[k].unit_price_cents for src, k, q in ret.returns)
    refund = {"id": f"{order_id}_refund", "status": "COMPLETED" if event_type == "refund.updated" else "PENDING",
              "amount_money": money(cents, ret.currency), "payment_id": ids.order(ret.returns[0][0]) + "_payment",
              "order_id": order_id, "location_id": ids.location(ret.location_index),
              "created_at": rfc3339(ret.created_at), "updated_at": rfc3339(ret.updated_at)}
    return envelope(seed, event_type, "refund", refund["id"], {"refund": refund}, ret.updated_at)


# --- webhook envelopes -----------------------------------------------------------------------------------------
def envelope(seed: str, event_type: str, data_type: str, data_id: str, obj: dict, created_at) -> dict:
    return {"merchant_id": merchant_id(seed), "type": event_type, "event_id": str(uuid.uuid4()),
            "created_at": rfc3339(created_at), "data": {"type": data_type, "id": data_id, "object": obj}}


def order_updated_event(seed: str, m: Merchant, o: Order, state: str | None = None) -> dict:
    """``order.updated`` for the order as it is now, or as it was in an earlier ``state`` (its version then)."""
    ids = SquareIds(m)
    state = state or order_state(m, o)
    version = {"OPEN": 1, "COMPLETED": 2, "CANCELED": 3}.get(state, 1)
    body = {"order_id": ids.order(o.index), "version": version, "location_id": ids.location(o.location_index),
            "state": state, "created_at": rfc3339(o.created_at), "updated_at": rfc3339(o.updated_at)}
    return envelope(seed, "order.updated", "order_updated", body["order_id"], {"order_updated": body}, o.updated_at)


def order_created_event(seed: str, m: Merchant, o: Order) -> dict:
    ids = SquareIds(m)
    body = {"order_id": ids.order(o.index), "version": 1, "location_id": ids.location(o.location_index),
            "state": order_state(m, o), "created_at": rfc3339(o.created_at)}
    return envelope(seed, "order.created", "order_created", body["order_id"], {"order_created": body}, o.created_at)


def inventory_event(seed: str, m: Merchant, rows: list[Stock], at) -> dict:
    counts = [c for s in rows for c in counts_json(m, s)]
    return envelope(seed, "inventory.count.updated", "inventory_counts", str(uuid.uuid4()),
                    {"inventory_counts": counts}, at)


def catalog_event(seed: str, at) -> dict:
    return envelope(seed, "catalog.version.updated", "catalog_version", "",
                    {"catalog_version": {"updated_at": rfc3339(at)}}, at)
