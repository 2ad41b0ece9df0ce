"""ShipBob webhooks: Standard Webhooks signatures with the secret of the subscription the URL names
(``/webhooks/shipbob/<segment>/``), ``webhook-id`` as the event id, the topic in ``x-webhook-topic``.

``order.shipped`` and ``order.shipment.cancelled`` carry the shipment; its lines go through the same mapper as the
shipments sync (``mappers.map_shipment``) and replace the shipment's earlier lines, so a redelivery changes
nothing. ShipBob has no inventory webhook: stock comes from the inventory stream's history polling.
"""

from __future__ import annotations

from integrations.webhooks.base import (
    Envelope,
    HandlerResult,
    PermanentWebhookError,
    WebhookContext,
    WebhookReceiver,
    body_fingerprint,
    describe_counts,
)
from integrations.webhooks.standard import verify as verify_standard


def _subscription(segment):
    from integrations.models import WebhookSubscription

    if not segment:
        return None
    return WebhookSubscription.objects.filter(provider="shipbob", segment=str(segment)[:64]).select_related(
        "connection").first()


def on_shipment(ctx: WebhookContext) -> HandlerResult:
    from inventory.ingest import ingest_sales

    from .mappers import map_shipment

    shipment = ctx.payload
    if not isinstance(shipment.get("id"), int | str) or not shipment.get("products"):
        raise PermanentWebhookError("payload is not a shipment (no id or products)")
    lines = map_shipment(shipment)
    if not lines:
        return HandlerResult("ignored", f"shipment {shipment['id']} has not left the fulfilment centre")
    counts = ingest_sales(ctx.source, lines, replace_orders=True)
    return HandlerResult("processed", f"shipment {shipment['id']}: {describe_counts(counts)}")


class ShipBobWebhooks(WebhookReceiver):
    provider_key = "shipbob"
    signature_header = "webhook-signature"
    takes_subscription = True
    handlers = {"order.shipped": on_shipment, "order.shipment.cancelled": on_shipment}

    def verify(self, raw_body: bytes, headers, *, subscription=None) -> bool:
        row = _subscription(subscription)
        if row is None:
            return False
        return verify_standard(raw_body, headers, [row.secret, row.previous_secret or ""])

    def envelope(self, raw_body: bytes, payload, headers, *, subscription=None) -> Envelope:
        row = _subscription(subscription)
        account = row.connection.external_account_id if row else ""
        topic = headers.get("x-webhook-topic", "")
        event_id = headers.get("webhook-id", "")
        if not event_id:
            return Envelope(body_fingerprint(raw_body), topic, account, parse_error="no webhook-id header")
        if not isinstance(payload, dict):
            return Envelope(event_id, topic, account, parse_error="" if payload is None else "not a JSON object")
        return Envelope(event_id, topic, account)


receiver = ShipBobWebhooks()
