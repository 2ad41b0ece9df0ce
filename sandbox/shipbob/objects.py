"""ShipBob JSON for the sandbox's generated data: fulfilment centres, products with variants, inventory levels per
fulfilment centre, orders with shipments, inventory history events.

Field names follow ShipBob's 2026-07 reference as found with the search tool (``fulfillment-center``,
``inventory-level/locations``: ``on_hand_quantity``, ``committed_quantity``, ``fulfillable_quantity``,
``awaiting_quantity``; history events with ``inventory_audit_event_id``). Product variants carry ``upc`` and the
``inventory.inventory_id`` that stock and shipments refer to.
"""

from __future__ import annotations

from ..data import rand, rfc3339
from .common import (
    INVENTORY_ID_BASE,
    ORDER_ID_BASE,
    PRODUCT_ID_BASE,
    SHIPMENT_ID_BASE,
    fulfilment_centre,
)


def fc_json(index: int) -> dict:
    fc_id, name, street, city, region, postal, tz = fulfilment_centre(index)
    return {"id": fc_id, "name": name, "timezone": tz, "address1": street, "address2": "", "city": city,
            "state": region, "country": "US", "zip_code": postal, "phone_number": "8444744726",
            "email": "support@shipbob.com"}


def inventory_id(variant_index: int) -> int:
    return INVENTORY_ID_BASE + variant_index


def variant_index(inventory: int) -> int:
    return inventory - INVENTORY_ID_BASE


def product_json(m, product_index: int) -> dict:
    per = m.sizes.variants_per_product
    variants = []
    for k in range(per):
        v = m.variant(product_index * per + k)
        variants.append({"id": PRODUCT_ID_BASE * 2 + v.index, "name": v.title, "sku": v.sku, "upc": v.barcode,
                         "gtin": "", "status": "Inactive" if v.deleted else "Active",
                         "inventory": {"inventory_id": inventory_id(v.index), "on_hand_qty": None},
                         "updated_on": rfc3339(v.updated_at)})
    return {"id": PRODUCT_ID_BASE + product_index, "name": m.product_name(product_index), "type": "Regular",
            "variants": variants}


def awaiting(m, variant: int, location: int) -> int:
    """Units on a receiving order (WRO) not yet stowed: a few items have some."""
    r = rand(m.seed, "shipbob-awaiting", variant * 64 + location)
    return (r >> 8) % 40 if r % 10 == 0 else 0


def level_json(m, variant: int, locations: list[int]) -> dict:
    v = m.variant(variant)
    rows = []
    for loc in locations:
        s = m.stock(variant, loc)
        fc = fulfilment_centre(loc)
        rows.append({"location_id": fc[0], "location_name": fc[1], "location_type": "FulfillmentCenter",
                     "on_hand_quantity": s.on_hand, "committed_quantity": s.committed,
                     "fulfillable_quantity": s.on_hand - s.committed, "awaiting_quantity": awaiting(m, variant, loc),
                     "internal_transfer_quantity": 0, "backordered_quantity": 0, "sellable_quantity": None})
    return {"inventory_id": inventory_id(variant), "sku": v.sku, "name": v.title, "locations": rows}


def shipment_json(m, order) -> dict:
    fc = fulfilment_centre(order.location_index)
    cancelled = order.state == "CANCELED"
    # A shipment lists each product once: lines of the same variant are packed together.
    quantities: dict[int, int] = {}
    for line in order.lines:
        quantities[line.variant_index] = quantities.get(line.variant_index, 0) + line.quantity
    products = []
    for index, quantity in quantities.items():
        v = m.variant(index)
        products.append({"id": PRODUCT_ID_BASE * 2 + v.index, "reference_id": v.sku, "name": v.title, "sku": v.sku,
                         "inventory_items": [{"id": inventory_id(v.index), "name": v.title, "quantity": quantity}]})
    return {"id": SHIPMENT_ID_BASE + order.index, "order_id": ORDER_ID_BASE + order.index,
            "reference_id": f"SO-{order.index + 1:07d}", "location": {"id": fc[0], "name": fc[1]},
            "status": "Cancelled" if cancelled else "Completed",
            "created_date": rfc3339(order.created_at),
            "actual_fulfillment_date": None if cancelled else rfc3339(order.updated_at),
            "last_update_at": rfc3339(order.updated_at), "products": products}


def order_json(m, order) -> dict:
    return {"id": ORDER_ID_BASE + order.index, "order_number": f"SO-{order.index + 1:07d}",
            "reference_id": f"SO-{order.index + 1:07d}", "type": "DTC",
            "status": "Cancelled" if order.state == "CANCELED" else "Fulfilled",
            "created_date": rfc3339(order.created_at), "purchase_date": rfc3339(order.created_at),
            "last_updated_date": rfc3339(order.updated_at),
            "products": [{"id": PRODUCT_ID_BASE * 2 + line.variant_index, "sku": line.sku,
                          "quantity": line.quantity, "unit_price": line.unit_price_cents / 100}
                         for line in order.lines],
            "shipments": [shipment_json(m, order)]}
