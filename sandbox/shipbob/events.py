"""What happens at ShipBob when a shipment goes out or stock changes: inventory history events (the stream the
portal reads stock changes from) and Standard Webhooks deliveries to the subscriptions of the topic.

Signatures (standardwebhooks.com spec; ShipBob signs with it, per its webhook docs and hookdeck's skill page):
``webhook-id`` (stable across retries), ``webhook-timestamp`` (unix seconds of this attempt),
``webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded whsec_ secret, "<id>.<timestamp>.<body>")>``; the
topic travels in ``x-webhook-topic``. Each retry is signed again with its own timestamp, so a late retry still
falls inside the receiver's 5-minute tolerance. ShipBob documents only "exponential backoff"; the stand-in uses the
Standard Webhooks reference schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from ..data import rfc3339
from . import objects
from .common import fulfilment_centre

RETRIES = [5, 300, 1800, 7200, 18000, 36000, 36000]


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(headers: dict, body: bytes, now: float) -> dict:
    """The headers of one attempt: ``_whsec`` (kept out of the request) signs it at ``now``."""
    out = {k: v for k, v in headers.items() if not k.startswith("_")}
    timestamp = int(now)
    out["webhook-timestamp"] = str(timestamp)
    out["webhook-signature"] = " ".join(sign(s, out["webhook-id"], timestamp, body)
                                        for s in headers["_whsec"].split())
    return out


def _history(state, user: str, category: str, variant: int, location: int, change: int, committed: int, at,
             order_id=None) -> None:
    with state.lock:
        state.shipbob_next_event += 1
        fc = fulfilment_centre(location)
        side = {"facility_id": fc[0], "location_id": fc[0], "quantity_change": change,
                "committed_quantity_change": committed, "sku": None, "inventory_status": "Fulfillable"}
        state.shipbob_history.setdefault(user, []).append({
            "inventory_audit_event_id": state.shipbob_next_event, "inventory_id": objects.inventory_id(variant),
            "event_category": category, "event_datetime": rfc3339(at), "shipbob_order_id": order_id,
            "increment": side, "decrement": side, "primary_reference": None})


def stock_changed(app, user: str, before, row) -> None:
    _history(app.state, user, "Adjustment", row.variant_index, row.location_index,
             row.on_hand - (before.on_hand if before else 0), 0, row.updated_at)


def shipped(app, user: str, m, order, rows) -> dict:
    """An order left a fulfilment centre: one ``OrderPick`` history event per item and ``order.shipped`` to every
    subscription of the topic (any application of this user)."""
    for row in rows:
        line_qty = sum(line.quantity for line in order.lines if line.variant_index == row.variant_index)
        _history(app.state, user, "OrderPick", row.variant_index, row.location_index, -line_qty, 0,
                 order.updated_at, order_id=objects.ORDER_ID_BASE + order.index)
    shipment = objects.shipment_json(m, order)
    deliver(app, user, "order.shipped", shipment)
    return shipment


def deliver(app, user: str, topic: str, payload: dict) -> int:
    body = json.dumps(payload, separators=(",", ":")).encode()
    count = 0
    for (account, _app), subs in list(app.state.shipbob_subscriptions.items()):
        if account != user:
            continue
        for sub in subs:
            if topic not in sub["topics"]:
                continue
            headers = {"Content-Type": "application/json", "webhook-id": "msg_" + secrets.token_urlsafe(18),
                       "x-webhook-topic": topic, "User-Agent": "ShipBob-Webhooks", "_whsec": sub["secret"]}
            app.webhooks.push_signed("shipbob", sub["url"], headers, body, headers["webhook-id"], topic)
            count += 1
    return count


def rotate_secret(app, user: str, subscription: str, new_secret: str) -> bool:
    """Control API helper: during a rotation deliveries carry signatures by the old and the new secret."""
    for (account, _app), subs in app.state.shipbob_subscriptions.items():
        for sub in subs:
            if account == user and sub["id"] == subscription:
                sub["secret"] = f"{new_secret} {sub['secret'].split()[0]}"
                return True
    return False
