"""Shopify webhooks: HMAC over the raw body, headers as the envelope, and the topic handlers.

Facts (reference/provider-facts.md 2.2): ``X-Shopify-Hmac-Sha256`` = base64 HMAC-SHA256 of the raw body keyed with
the app's client secret (the OAuth callback HMAC is hex; this one is not). Dedupe on ``X-Shopify-Event-Id``, falling
back to ``X-Shopify-Webhook-Id``; the new Events system sends the same headers without the ``X-`` prefix. Bodies are
REST-style JSON with numeric ids: those numbers (as strings) are the external ids, the same ones a GraphQL sync
gets from the last segment of a GID.
"""

from __future__ import annotations

import json

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

from . import mappers

REDACTED_BODY = b'{"redacted": "shopify compliance request"}'
_id = mappers.payload_id  # payload ids as the strings stored everywhere


def signature_for(raw_body: bytes, *, secret: str) -> str:
    return hmac_sha256_base64(secret, raw_body)


def _header(headers, name: str) -> str:
    """``X-Shopify-<name>``, or the Events system's unprefixed ``shopify-<name>``."""
    return headers.get(f"x-shopify-{name}") or headers.get(f"shopify-{name}") or ""


def _mapped(mapper, payload):
    """Payload mapping lives in ``mappers`` (shared with the sync); an unreadable payload fails its event."""
    try:
        return mapper(payload)
    except mappers.PayloadError as exc:
        raise PermanentWebhookError(str(exc)) from None


def order_sale_lines(order: dict) -> list:
    return _mapped(mappers.map_order_payload, order)


def product_items(product: dict) -> list:
    return _mapped(mappers.map_product_payload, product)


def inventory_level(payload: dict):
    return _mapped(mappers.map_inventory_level_payload, payload)


def on_order(ctx: WebhookContext) -> HandlerResult:
    from inventory.ingest import ingest_sales

    lines = order_sale_lines(ctx.payload)
    if not lines:
        return HandlerResult("ignored", "order has no line items")
    counts = ingest_sales(ctx.source, lines, replace_orders=True)
    return HandlerResult("processed", f"order {ctx.payload['id']}: {describe_counts(counts)}")


def on_refund(ctx: WebhookContext) -> HandlerResult:
    """``refunds/create`` names the refund and its order: the order is read in full (its sold lines and every
    refund, as the orders stream reads it), so the sold lines and the refund lines agree whichever came first."""
    from integrations.http import client_for
    from inventory.ingest import ingest_sales

    from .orders import fetch_sale_lines

    if ctx.payload.get("order_id") is None:
        raise PermanentWebhookError("refund payload has no order_id")
    order_id = _id(ctx.payload["order_id"])
    lines = fetch_sale_lines(client_for(ctx.connection), f"gid://shopify/Order/{order_id}")
    if lines is None:
        return HandlerResult("ignored", f"order {order_id} of refund {_id(ctx.payload.get('id'))} is gone")
    counts = ingest_sales(ctx.source, lines, replace_orders=True)
    return HandlerResult("processed", f"refund {_id(ctx.payload.get('id'))} of order {order_id}: "
                                      f"{describe_counts(counts)}")


def on_product(ctx: WebhookContext) -> HandlerResult:
    from inventory.ingest import ingest_items

    items = product_items(ctx.payload)
    if not items:
        return HandlerResult("ignored", "product has no variants")
    return HandlerResult("processed", f"{len(items)} variants: {describe_counts(ingest_items(ctx.source, items))}")


def on_product_delete(ctx: WebhookContext) -> HandlerResult:
    """``products/delete`` names only the product: its variants' mappings are marked deleted at source (kept)."""
    from inventory.ingest import mark_deleted_at_source

    if ctx.payload.get("id") is None:
        raise PermanentWebhookError("products/delete payload has no id")
    # The payload carries no time: when Shopify told us is the best "when" there is.
    counts = mark_deleted_at_source(ctx.source, parent_external_ids=[_id(ctx.payload["id"])],
                                    at=ctx.event.received_at)
    product_id = _id(ctx.payload["id"])
    return HandlerResult("processed", f"product {product_id} deleted: {describe_counts(counts)}")


def on_inventory_level(ctx: WebhookContext) -> HandlerResult:
    from inventory.ingest import ingest_stock

    return HandlerResult("processed", describe_counts(ingest_stock(ctx.source, [inventory_level(ctx.payload)])))


def on_orders_batch(contexts: list[WebhookContext]) -> list:
    """Order events of one shop, ingested together. An order delivered several times in the batch is ingested in
    rounds, its versions in receipt order (round 1 holds every order's first version, round 2 the second ones...):
    with ``replace_orders`` two versions of one order must never share a call, and rounds end in exactly the state
    one-by-one processing reaches (ingest's ``order_updated_at`` guard decides, as it does then). A batch without
    repeats is a single ingest call."""
    from inventory.ingest import ingest_sales
    from inventory.records import IngestCounts

    outcomes: list = [None] * len(contexts)
    versions: dict[str, list[list]] = {}  # order id -> its versions' lines, in receipt order
    for i, ctx in enumerate(contexts):
        try:
            lines = order_sale_lines(ctx.payload)
        except Exception as exc:  # noqa: BLE001 - a payload we cannot read fails its own event only
            outcomes[i] = exc
            continue
        if not lines:
            outcomes[i] = HandlerResult("ignored", "order has no line items")
            continue
        versions.setdefault(lines[0].order_external_id, []).append(lines)
        outcomes[i] = lines[0].order_external_id  # settled below, once the batch is ingested
    total = IngestCounts()
    rounds = max((len(v) for v in versions.values()), default=0)
    for r in range(rounds):
        batch_lines = [line for order in versions.values() if len(order) > r for line in order[r]]
        counts = ingest_sales(contexts[0].source, batch_lines, replace_orders=True)
        describe_counts(counts)  # refused records fail the group (each event then runs on its own)
        total += counts
    summary = f"batch of {len(versions)} orders: {describe_counts(total)}"
    return [HandlerResult("processed", f"order {o} ({summary})") if isinstance(o, str) else o for o in outcomes]


def on_products_batch(contexts: list[WebhookContext]) -> list:
    """Product events of one shop in one ingest call (ingest keeps the newest ``updated_at`` of a variant)."""
    from inventory.ingest import ingest_items

    outcomes: list = [None] * len(contexts)
    items, carriers = [], []
    for i, ctx in enumerate(contexts):
        try:
            mapped = product_items(ctx.payload)
        except Exception as exc:  # noqa: BLE001 - a payload we cannot read fails its own event only
            outcomes[i] = exc
            continue
        if not mapped:
            outcomes[i] = HandlerResult("ignored", "product has no variants")
            continue
        items.extend(mapped)
        carriers.append(i)
    if items:
        summary = f"batch of {len(items)} variants: {describe_counts(ingest_items(contexts[0].source, items))}"
        for i in carriers:
            outcomes[i] = HandlerResult("processed", summary)
    return outcomes


def on_inventory_levels_batch(contexts: list[WebhookContext]) -> list:
    """Inventory level events of one shop in one ingest call (ingest keeps the newest ``as_of`` per level)."""
    from inventory.ingest import ingest_stock

    outcomes: list = [None] * len(contexts)
    levels, carriers = [], []
    for i, ctx in enumerate(contexts):
        try:
            levels.append(inventory_level(ctx.payload))
        except Exception as exc:  # noqa: BLE001 - a payload we cannot read fails its own event only
            outcomes[i] = exc
            continue
        carriers.append(i)
    if levels:
        summary = f"batch of {len(levels)} levels: {describe_counts(ingest_stock(contexts[0].source, levels))}"
        for i in carriers:
            outcomes[i] = HandlerResult("processed", summary)
    return outcomes


def on_uninstalled(ctx: WebhookContext) -> HandlerResult:
    from integrations.oauth.disconnect import disconnect

    if ctx.connection.status == ctx.connection.Status.DISCONNECTED:
        return HandlerResult("processed", "connection was already disconnected")
    # The grant is already gone at Shopify: nothing to revoke.
    disconnect(ctx.connection, reason="Shopify app/uninstalled webhook", revoke=False)
    return HandlerResult("processed", "connection disconnected")


def _shop_events(ctx: WebhookContext):
    from integrations.models import WebhookEvent

    return WebhookEvent.objects.filter(provider="shopify", external_account_id=ctx.event.external_account_id).exclude(
        pk=ctx.event.pk
    )


def _order_events_about(ctx: WebhookContext, order_ids: set[str], customer_id: str):
    """Stored order events of this shop whose payload is one of ``order_ids`` or belongs to ``customer_id``."""
    matches = []
    for pk, body in _shop_events(ctx).filter(topic__startswith="orders/").values_list("pk", "body").iterator():
        try:
            order = json.loads(bytes(body))
        except ValueError:
            continue
        owner = _id((order.get("customer") or {}).get("id")) if isinstance(order, dict) else ""
        if isinstance(order, dict) and (_id(order.get("id")) in order_ids or (customer_id and owner == customer_id)):
            matches.append(pk)
    return matches


def on_customer_data_request(ctx: WebhookContext) -> HandlerResult:
    """Recorded for staff, who answer the merchant: the portal keeps no customer records of its own, only raw
    order payloads, which this counts."""
    customer_id = _id((ctx.payload.get("customer") or {}).get("id"))
    orders = {_id(o) for o in ctx.payload.get("orders_requested") or []}
    found = _order_events_about(ctx, orders, customer_id)
    request_id = _id((ctx.payload.get("data_request") or {}).get("id"))
    return HandlerResult(
        "processed", f"data request {request_id} for customer {customer_id}: {len(found)} stored order payloads"
    )


def on_customer_redact(ctx: WebhookContext) -> HandlerResult:
    customer_id = _id((ctx.payload.get("customer") or {}).get("id"))
    orders = {_id(o) for o in ctx.payload.get("orders_to_redact") or []}
    found = _order_events_about(ctx, orders, customer_id)
    ctx.event.__class__.objects.filter(pk__in=found).update(body=REDACTED_BODY)
    return HandlerResult("processed", f"customer {customer_id}: {len(found)} stored order payloads redacted")


def on_shop_redact(ctx: WebhookContext) -> HandlerResult:
    """48 hours after uninstall: the shop's personal data (raw payloads, rejection samples naming it) goes.
    Sales figures and levels are the retailer's business data and stay."""
    from integrations.models import WebhookRejection

    redacted = _shop_events(ctx).update(body=REDACTED_BODY)
    shop = ctx.event.external_account_id
    samples_dropped = 0
    for row in WebhookRejection.objects.filter(provider="shopify").select_for_update():
        kept = [s for s in row.samples if (s.get("headers") or {}).get("x-shopify-shop-domain") != shop]
        if len(kept) != len(row.samples):
            samples_dropped += len(row.samples) - len(kept)
            row.samples = kept
            row.save(update_fields=["samples"])
    return HandlerResult("processed", f"{redacted} stored payloads redacted, {samples_dropped} rejection samples")


class ShopifyWebhooks(WebhookReceiver):
    provider_key = "shopify"
    signature_header = "x-shopify-hmac-sha256"
    secret_headers = frozenset({"shopify-hmac-sha256"})
    handlers = {
        "orders/create": on_order,
        "orders/updated": on_order,
        "orders/cancelled": on_order,
        "refunds/create": on_refund,
        "products/update": on_product,
        "products/delete": on_product_delete,
        "inventory_levels/update": on_inventory_level,
        "app/uninstalled": on_uninstalled,
        "customers/data_request": on_customer_data_request,
        "customers/redact": on_customer_redact,
        "shop/redact": on_shop_redact,
    }
    batch_handlers = {
        "orders/create": on_orders_batch,
        "orders/updated": on_orders_batch,
        "orders/cancelled": on_orders_batch,
        "products/update": on_products_batch,
        "inventory_levels/update": on_inventory_levels_batch,
    }
    topics_after_disconnect = frozenset({"app/uninstalled", "customers/data_request", "customers/redact",
                                         "shop/redact"})

    def given_signature(self, headers) -> str:
        return _header(headers, "hmac-sha256")

    def verify(self, raw_body: bytes, headers, *, subscription=None) -> bool:
        secret = settings.SHOPIFY_CLIENT_SECRET
        given = self.given_signature(headers)
        if not secret or not given:
            return False
        return signature_matches(signature_for(raw_body, secret=secret), given)

    def envelope(self, raw_body: bytes, payload, headers, *, subscription=None) -> Envelope:
        event_id = _header(headers, "event-id") or _header(headers, "webhook-id") or body_fingerprint(raw_body)
        error = "payload is not a JSON object" if payload is not None and not isinstance(payload, dict) else ""
        return Envelope(event_id, _header(headers, "topic"), _header(headers, "shop-domain").lower(), error)


receiver = ShopifyWebhooks()
