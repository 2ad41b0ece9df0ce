"""Square webhooks: signature over notification URL + raw body, the event envelope, and the topic handlers.

Facts (reference/provider-facts.md 1.3): header ``x-square-hmacsha256-signature`` = base64 HMAC-SHA256 keyed with
the subscription's signature key over ``notification_url + raw_body``; the URL is the one registered on the
subscription, byte for byte (so it comes from settings, never from the request's Host header). Envelope
``{merchant_id, type, event_id, created_at, data: {type, id, object}}``; ``event_id`` is the idempotency key.
Order webhooks carry no line items, so orders are fetched (BatchRetrieveOrders) through the resilient client;
orders and inventory counts are mapped by ``mappers.py``, the same functions the sync uses.
"""

from __future__ import annotations

from django.conf import settings

from integrations.webhooks.base import (
    Envelope,
    HandlerResult,
    PermanentWebhookError,
    WebhookContext,
    WebhookReceiver,
    body_fingerprint,
    describe_counts,
    hmac_sha256_base64,
    signature_matches,
)

BATCH_RETRIEVE_MAX = 100


class OrderNotYetVisible(Exception):
    """The webhook named an order the API does not return yet; retried with backoff."""


def notification_url() -> str:
    return settings.SQUARE_WEBHOOK_NOTIFICATION_URL or f"{settings.BASE_URL}/webhooks/square/"


def signature_for(raw_body: bytes, *, key: str, url: str) -> str:
    return hmac_sha256_base64(key, url.encode("utf-8") + raw_body)


def fetch_orders(connection, order_ids: list[str], location_id: str | None) -> list[dict]:
    from integrations.http import client_for

    client = client_for(connection)
    orders: list[dict] = []
    for start in range(0, len(order_ids), BATCH_RETRIEVE_MAX):
        body: dict = {"order_ids": order_ids[start : start + BATCH_RETRIEVE_MAX]}
        if location_id:
            body["location_id"] = location_id
        orders.extend(client.post("/v2/orders/batch-retrieve", json=body).json().get("orders") or [])
    return orders


def ingest_orders(ctx: WebhookContext, order_ids: list[str], location_id: str | None) -> HandlerResult:
    from inventory.ingest import ingest_sales

    orders = fetch_orders(ctx.connection, order_ids, location_id)
    missing = set(order_ids) - {o.get("id") for o in orders}
    if missing:  # BatchRetrieveOrders skips unknown ids silently; the order may not be readable yet
        raise OrderNotYetVisible(f"orders not returned by the API yet: {sorted(missing)}")
    from .mappers import map_order

    lines = [line for order in orders for line in map_order(order)]
    if not lines:
        return HandlerResult("ignored", "no sale lines (draft order or no line items)")
    counts = ingest_sales(ctx.source, lines, replace_orders=True)
    return HandlerResult("processed", f"orders {','.join(order_ids)}: {describe_counts(counts)}")


def _order_reference(ctx: WebhookContext) -> tuple[str, str | None] | HandlerResult:
    """(order id, location id) an order or payment event is about, or the result when it names no order."""
    if ctx.event.topic.startswith(("payment.", "refund.")):
        # A PaymentRefund names its order as a payment does: an itemized refund's own order (its ``returns``
        # give back the sold lines), read and mapped like any order, so a redelivery stores nothing twice.
        kind = ctx.event.topic.split(".", 1)[0]
        payment = _object(ctx, kind)
        if not payment.get("order_id"):
            return HandlerResult("ignored", f"{kind} without an order")
        return payment["order_id"], payment.get("location_id")
    key = "order_created" if ctx.event.topic == "order.created" else "order_updated"
    summary = _object(ctx, key)
    if not summary.get("order_id"):
        raise PermanentWebhookError(f"data.object.{key} has no order_id")
    return summary["order_id"], summary.get("location_id")


def on_orders_batch(contexts: list[WebhookContext]) -> list:
    """Order and payment events of one connection: each order fetched once (BatchRetrieveOrders, 100 ids a call,
    per location), all of them ingested in one call. An event whose order is not readable yet is retried alone."""
    from inventory.ingest import ingest_sales

    from .mappers import map_order

    outcomes: list = [None] * len(contexts)
    wanted: dict[int, str] = {}
    by_location: dict[str | None, list[str]] = {}
    for i, ctx in enumerate(contexts):
        try:
            reference = _order_reference(ctx)
        except Exception as exc:  # noqa: BLE001 - a payload we cannot read fails its own event only
            outcomes[i] = exc
            continue
        if isinstance(reference, HandlerResult):
            outcomes[i] = reference
            continue
        order_id, location_id = reference
        wanted[i] = order_id
        ids = by_location.setdefault(location_id, [])
        if order_id not in ids:
            ids.append(order_id)
    orders: dict[str, dict] = {}
    for location_id, ids in by_location.items():
        for order in fetch_orders(contexts[0].connection, ids, location_id):
            orders.setdefault(order.get("id"), order)
    lines_of: dict[str, list | Exception] = {}
    for order_id, order in orders.items():
        try:
            lines_of[order_id] = map_order(order)
        except Exception as exc:  # noqa: BLE001 - an order we cannot map fails the events about it only
            lines_of[order_id] = exc
    lines = [line for order_lines in lines_of.values() if isinstance(order_lines, list) for line in order_lines]
    summary = ""
    if lines:
        counts = ingest_sales(contexts[0].source, lines, replace_orders=True)
        summary = f"batch of {len(orders)} orders: {describe_counts(counts)}"
    for i, order_id in wanted.items():
        if order_id not in orders:
            outcomes[i] = OrderNotYetVisible(f"orders not returned by the API yet: ['{order_id}']")
        elif isinstance(lines_of[order_id], Exception):
            outcomes[i] = lines_of[order_id]
        elif not lines_of[order_id]:
            outcomes[i] = HandlerResult("ignored", "no sale lines (draft order or no line items)")
        else:
            outcomes[i] = HandlerResult("processed", f"order {order_id} ({summary})")
    return outcomes


def _object(ctx: WebhookContext, key: str) -> dict:
    try:
        value = ctx.payload["data"]["object"][key]
    except (KeyError, TypeError):
        raise PermanentWebhookError(f"payload has no data.object.{key}")
    if value is None:
        raise PermanentWebhookError(f"data.object.{key} is empty")
    return value


def on_payment(ctx: WebhookContext) -> HandlerResult:
    reference = _order_reference(ctx)
    if isinstance(reference, HandlerResult):
        return reference
    return ingest_orders(ctx, [reference[0]], reference[1])


def on_order(ctx: WebhookContext) -> HandlerResult:
    key = "order_created" if ctx.event.topic == "order.created" else "order_updated"
    summary = _object(ctx, key)
    if not summary.get("order_id"):
        raise PermanentWebhookError(f"data.object.{key} has no order_id")
    return ingest_orders(ctx, [summary["order_id"]], summary.get("location_id"))


def on_inventory_counts(ctx: WebhookContext) -> HandlerResult:
    from inventory.ingest import ingest_stock

    from .mappers import map_inventory_counts

    levels = map_inventory_counts(_object(ctx, "inventory_counts"))
    if not levels:
        return HandlerResult("ignored", "no stock states (IN_STOCK, RESERVED_FOR_SALE, IN_TRANSIT) in the event")
    return HandlerResult("processed", f"{len(levels)} levels: {describe_counts(ingest_stock(ctx.source, levels))}")


def on_inventory_counts_batch(contexts: list[WebhookContext]) -> list:
    """Inventory count events of one connection in one ingest call (ingest merges levels of the same item and
    location, newest ``as_of`` first)."""
    from inventory.ingest import ingest_stock

    from .mappers import map_inventory_counts

    outcomes: list = [None] * len(contexts)
    levels = []
    with_levels = []
    for i, ctx in enumerate(contexts):
        try:
            mapped = map_inventory_counts(_object(ctx, "inventory_counts"))
        except Exception as exc:  # noqa: BLE001 - a payload we cannot read fails its own event only
            outcomes[i] = exc
            continue
        if not mapped:
            outcomes[i] = on_inventory_counts(ctx)  # nothing to ingest: the per-event handler says why, writing nothing
            continue
        levels.extend(mapped)
        with_levels.append(i)
    if levels:
        summary = f"batch of {len(levels)} levels: {describe_counts(ingest_stock(contexts[0].source, levels))}"
        for i in with_levels:
            outcomes[i] = HandlerResult("processed", summary)
    return outcomes


def on_catalog_version(ctx: WebhookContext) -> HandlerResult:
    """The event names no objects: a catalog delta sync (SearchCatalogObjects from the cursor) fetches them."""
    from integrations.sync.services import request_sync

    run = request_sync(ctx.connection, "catalog", trigger="webhook")
    if run is None:
        return HandlerResult("processed", "catalog sync already queued or running")
    return HandlerResult("processed", f"catalog sync run {run.pk} queued")


class SquareWebhooks(WebhookReceiver):
    provider_key = "square"
    signature_header = "x-square-hmacsha256-signature"
    secret_headers = frozenset({"x-square-signature"})  # the deprecated v1 SHA-1 signature, never used
    handlers = {
        "payment.created": on_payment,
        "payment.updated": on_payment,
        "refund.created": on_payment,
        "refund.updated": on_payment,
        "order.created": on_order,
        "order.updated": on_order,
        "inventory.count.updated": on_inventory_counts,
        "catalog.version.updated": on_catalog_version,
    }
    batch_handlers = {
        "payment.created": on_orders_batch,
        "payment.updated": on_orders_batch,
        "refund.created": on_orders_batch,
        "refund.updated": on_orders_batch,
        "order.created": on_orders_batch,
        "order.updated": on_orders_batch,
        "inventory.count.updated": on_inventory_counts_batch,
    }

    def verify(self, raw_body: bytes, headers, *, subscription=None) -> bool:
        key = settings.SQUARE_WEBHOOK_SIGNATURE_KEY
        given = headers.get(self.signature_header, "")
        if not key or not given:
            return False
        return signature_matches(signature_for(raw_body, key=key, url=notification_url()), given)

    def envelope(self, raw_body: bytes, payload, headers, *, subscription=None) -> Envelope:
        if not isinstance(payload, dict):
            error = "" if payload is None else "payload is not a JSON object"
            return Envelope(body_fingerprint(raw_body), "", "", parse_error=error)
        topic = str(payload.get("type") or "")
        account = str(payload.get("merchant_id") or "")
        event_id = payload.get("event_id")
        if not event_id:
            return Envelope(body_fingerprint(raw_body), topic, account, parse_error="envelope has no event_id")
        return Envelope(str(event_id), topic, account)


receiver = SquareWebhooks()
