"""Data changes that providers announce by webhook: a sale, a stock change, a product edit.

Each applies to the merchant's overlay (so the APIs return the new data) and queues the provider's real events:
Square ``order.updated`` + ``inventory.count.updated`` / ``catalog.version.updated``; Shopify ``orders/create`` +
``inventory_levels/update`` / ``products/update``. NetSuite has no webhooks (its data still changes).
``EventGenerator`` makes random changes at N per second (``runsandbox --events N``).
"""

from __future__ import annotations

import random
import threading

from .shipbob import events as shipbob_events
from .shipbob.common import DEFAULT_USER as SHIPBOB_DEFAULT_USER
from .shopify import objects as shopify_objects
from .square import objects as square_objects
from .square.common import merchant_id


def default_account(state, provider: str) -> str:
    return {"square": merchant_id(state.config.seed), "shopify": "demo-shop.myshopify.com",
            "netsuite": "1234567", "shipbob": SHIPBOB_DEFAULT_USER}[provider]


def _variant_index(m, item) -> int:
    if isinstance(item, int):
        index = item
    else:
        variant = m.variant_by_sku(str(item))
        if variant is None:
            raise ValueError(f"unknown sku {item!r}")
        index = variant.index
    if not 0 <= index < m.sizes.variants:
        raise ValueError(f"variant index {index} out of range")
    return index


def _merchant(app, provider: str, account: str | None):
    account = (account or default_account(app.state, provider)).lower()
    if provider == "netsuite":
        account = account.replace("_", "-")
    return account, app.state.merchant(provider, account)


def create_sale(app, provider: str, account: str | None = None, location: int = 0,
                items: list | None = None) -> dict:
    """A completed sale of ``items`` = [(sku or variant index, quantity), ...] at location index ``location``."""
    account, m = _merchant(app, provider, account)
    if not 0 <= location < m.sizes.locations:
        raise ValueError(f"location index {location} out of range")
    pairs = [(_variant_index(m, sku), int(qty)) for sku, qty in (items or [(0, 1)])]
    order, rows = m.record_sale(location, pairs, app.state.now_dt())
    if provider == "square":
        seed = app.state.config.seed
        # Rung up (OPEN, version 1), then paid (COMPLETED, version 2): two order.updated events, as at Square.
        app.webhooks.send_square(square_objects.order_updated_event(seed, m, order, state="OPEN"))
        app.webhooks.send_square(square_objects.order_updated_event(seed, m, order))
        app.webhooks.send_square(square_objects.inventory_event(seed, m, rows, order.updated_at))
        return {"order_id": square_objects.SquareIds(m).order(order.index)}
    if provider == "shopify":
        app.webhooks.send_shopify(account, "orders/create", shopify_objects.order_payload(m, order))
        for row in rows:
            app.webhooks.send_shopify(account, "inventory_levels/update", shopify_objects.inventory_level_payload(row))
        return {"order_id": shopify_objects.gid("Order", order.index)}
    if provider == "shipbob":  # at a warehouse a "sale" is an order shipped from a fulfilment centre
        shipment = shipbob_events.shipped(app, account, m, order, rows)
        return {"order_id": shipment["order_id"], "shipment_id": shipment["id"]}
    return {"transaction_id": order.index + 1}


def change_stock(app, provider: str, account: str | None = None, item=0, location: int = 0,
                 on_hand: int = 0, silent: bool = False) -> dict:
    """Set a level's on-hand count. ``silent``: the provider's data changes but it sends no webhook (a count
    entered where no event fires), so only a sync or the stock check can notice."""
    account, m = _merchant(app, provider, account)
    if not 0 <= location < m.sizes.locations:
        raise ValueError(f"location index {location} out of range")
    index = _variant_index(m, item)
    before = m.stock(index, location)
    row = m.set_stock(index, location, int(on_hand), app.state.now_dt())
    if provider == "shipbob":  # ShipBob has no inventory webhook: the change shows in the inventory history
        shipbob_events.stock_changed(app, account, before, row)
    if silent:
        return {"on_hand": row.on_hand, "available": row.available}
    if provider == "square":
        app.webhooks.send_square(square_objects.inventory_event(app.state.config.seed, m, [row], row.updated_at))
    elif provider == "shopify":
        app.webhooks.send_shopify(account, "inventory_levels/update", shopify_objects.inventory_level_payload(row))
    return {"on_hand": row.on_hand, "available": row.available}


def stock_truth(app, provider: str, account: str | None = None, item=0, location: int = 0) -> dict:
    """What the provider holds for one level now (tests compare the portal's levels with it)."""
    account, m = _merchant(app, provider, account)
    if not 0 <= location < m.sizes.locations:
        raise ValueError(f"location index {location} out of range")
    row = m.stock(_variant_index(m, item), location)
    return {"sku": m.variant(row.variant_index).sku, "location": location, "on_hand": row.on_hand,
            "committed": row.committed, "available": row.available, "updated_at": row.updated_at.isoformat()}


def edit_product(app, provider: str, account: str | None = None, item=0, **changes) -> dict:
    """Edit a variant: ``name``, ``product_name``, ``price_cents``, ``barcode``, ``deleted``."""
    allowed = {"name", "product_name", "price_cents", "barcode", "deleted"}
    if set(changes) - allowed:
        raise ValueError(f"editable fields: {', '.join(sorted(allowed))}")
    account, m = _merchant(app, provider, account)
    variant = m.edit_variant(_variant_index(m, item), app.state.now_dt(), **changes)
    if provider == "square":
        app.webhooks.send_square(square_objects.catalog_event(app.state.config.seed, variant.updated_at))
    elif provider == "shopify":
        per = m.sizes.variants_per_product
        siblings = [m.variant(variant.product_index * per + k) for k in range(per)]
        if all(v.deleted for v in siblings):  # the whole product is gone: Shopify sends only its id
            app.webhooks.send_shopify(account, "products/delete",
                                      {"id": shopify_objects.legacy_id("Product", variant.product_index)})
        else:
            app.webhooks.send_shopify(account, "products/update",
                                      shopify_objects.product_payload(m, variant.product_index))
    return {"sku": variant.sku}


def refund_order(app, provider: str, account: str | None = None, order=None, items=None,
                 restock_type: str = "RETURN") -> dict:
    """Give back ``items`` = [(line index, quantity), ...] of an order (its index, or a Shopify GID).
    Shopify: a refund of the order (RETURN: a return, the units restocked) -> ``refunds/create`` and
    ``orders/updated``. Square: an itemized refund, its own order whose ``returns`` name the sold lines ->
    ``order.created`` for it and ``refund.created``/``refund.updated`` naming it."""
    account, m = _merchant(app, provider, account)
    index = order if isinstance(order, int) else shopify_objects.parse_gid(str(order or ""), "Order")
    if index is None:
        raise ValueError("order must be an order index (or a Shopify Order GID)")
    pairs = [(int(k), int(q)) for k, q in (items or [(0, 1)])]
    now = app.state.now_dt()
    if provider == "shopify":
        if restock_type not in ("RETURN", "NO_RESTOCK", "CANCEL"):
            raise ValueError("restock_type must be RETURN, NO_RESTOCK or CANCEL")
        o, refund, rows = m.refund_order(index, pairs, now, restock_type)
        app.webhooks.send_shopify(account, "refunds/create", shopify_objects.refund_payload(m, o, refund))
        app.webhooks.send_shopify(account, "orders/updated", shopify_objects.order_payload(m, o))
        for row in rows:
            app.webhooks.send_shopify(account, "inventory_levels/update", shopify_objects.inventory_level_payload(row))
        return {"order_id": shopify_objects.gid("Order", index), "refund_id": shopify_objects.gid("Refund",
                                                                                                 refund.index)}
    if provider == "square":
        ret, rows = m.record_return(index, pairs, now)
        seed = app.state.config.seed
        app.webhooks.send_square(square_objects.order_created_event(seed, m, ret))
        app.webhooks.send_square(square_objects.refund_event(seed, m, ret))
        app.webhooks.send_square(square_objects.refund_event(seed, m, ret, "refund.updated"))
        if rows:
            app.webhooks.send_square(square_objects.inventory_event(seed, m, rows, ret.updated_at))
        return {"order_id": square_objects.SquareIds(m).order(ret.index)}
    raise ValueError("refunds are simulated for square and shopify")


def delete_location(app, provider: str, account: str | None = None, location: int = 0) -> dict:
    """Delete a location (NetSuite: it leaves the location table and enters the deleted-records log)."""
    if provider != "netsuite":
        raise ValueError("deleting locations is simulated for netsuite only")
    _account, m = _merchant(app, provider, account)
    m.delete_location(int(location), app.state.now_dt())
    return {"location_id": int(location) + 1}


def cancel_order(app, provider: str, account: str | None = None, order=None) -> dict:
    """Cancel an order (``order``: its GID or index); Shopify sends ``orders/cancelled`` and ``orders/updated``."""
    if provider != "shopify":
        raise ValueError("cancelling orders is simulated for shopify only")
    account, m = _merchant(app, provider, account)
    index = order if isinstance(order, int) else shopify_objects.parse_gid(str(order or ""), "Order")
    if index is None:
        raise ValueError("order must be an Order GID or an order index")
    cancelled = m.cancel_order(index, app.state.now_dt())
    payload = shopify_objects.order_payload(m, cancelled)
    for topic in ("orders/cancelled", "orders/updated"):
        app.webhooks.send_shopify(account, topic, payload)
    return {"order_id": shopify_objects.gid("Order", index), "cancelled_at": payload["cancelled_at"]}


class EventGenerator:
    """Random sales, stock changes and edits on the default accounts, ``rate`` per second, seeded."""

    def __init__(self, app, rate: float, providers=("square", "shopify")):
        self.app, self.rate, self.providers = app, rate, providers
        self.rng = random.Random(f"{app.state.config.seed}:events")
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sandbox-events", daemon=True)

    def start(self) -> EventGenerator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def _run(self) -> None:
        sizes = self.app.state.config.sizes
        while not self.stop_event.wait(1.0 / self.rate):
            provider = self.rng.choice(self.providers)
            variant, location = self.rng.randrange(sizes.variants), self.rng.randrange(sizes.locations)
            roll = self.rng.random()
            if roll < 0.7:
                create_sale(self.app, provider, location=location, items=[(variant, self.rng.randint(1, 3))])
            elif roll < 0.95:
                change_stock(self.app, provider, item=variant, location=location, on_hand=self.rng.randint(0, 100))
            else:
                edit_product(self.app, provider, item=variant, price_cents=self.rng.randint(199, 4999))
