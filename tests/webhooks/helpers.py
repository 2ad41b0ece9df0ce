"""Signing webhooks the way the providers do, for tests and the benchmark.

Square deliveries are signed by the documented algorithm and every signature is checked with Square's own SDK
(``square.utils.webhooks_helper.verify_signature``), so the tests never only check our signer against our verifier.
Shopify's Python library has no webhook helper; its signatures follow the documented algorithm and are pinned to
the known-good vector in reference/test-vectors.json.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from django.test import Client

from integrations.models import WebhookEvent

SQUARE_KEY = "test-square-signature-key"
SQUARE_URL = "https://portal.example.com/webhooks/square/"
SHOPIFY_SECRET = "test-shopify-client-secret"
SQUARE_MERCHANT = "MLSQ4R3M3RCH4NT"
SHOPIFY_SHOP = "acme-test.myshopify.com"


def square_signature(body: bytes, *, key: str = SQUARE_KEY, url: str = SQUARE_URL, check_sdk: bool = True) -> str:
    signature = base64.b64encode(hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()).decode()
    if check_sdk:
        from square.utils.webhooks_helper import verify_signature

        assert verify_signature(
            request_body=body.decode("utf-8"), signature_header=signature, signature_key=key, notification_url=url
        ), "Square's SDK does not accept the test signature"
    return signature


def shopify_signature(body: bytes, *, secret: str = SHOPIFY_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def square_event(topic: str, obj: dict, *, merchant: str = SQUARE_MERCHANT, event_id: str | None = None,
                 data_type: str | None = None, created_at: str = "2026-09-01T10:00:00Z") -> dict:
    return {
        "merchant_id": merchant,
        "type": topic,
        "event_id": event_id or str(uuid.uuid4()),
        "created_at": created_at,
        "data": {"type": data_type or topic.split(".")[0], "id": str(uuid.uuid4()), "object": obj},
    }


def square_request(event: dict | bytes, **sign) -> tuple[bytes, dict]:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return body, {"HTTP_X_SQUARE_HMACSHA256_SIGNATURE": square_signature(body, **sign),
                  "HTTP_SQUARE_ENVIRONMENT": "Production"}


def shopify_request(topic: str, payload: dict | bytes, *, shop: str = SHOPIFY_SHOP, event_id: str | None = None,
                    webhook_id: str | None = None, secret: str = SHOPIFY_SECRET,
                    with_event_id: bool = True) -> tuple[bytes, dict]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_HMAC_SHA256": shopify_signature(body, secret=secret),
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": shop,
        "HTTP_X_SHOPIFY_API_VERSION": "2026-07",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id or str(uuid.uuid4()),
        "HTTP_X_SHOPIFY_TRIGGERED_AT": "2026-09-01T10:00:00Z",
    }
    if with_event_id:
        headers["HTTP_X_SHOPIFY_EVENT_ID"] = event_id or str(uuid.uuid4())
    return body, headers


def shopify_order(order_id: int, lines: list[tuple[int, int, int, str]], *, updated_at: str, location_id=7001,
                  cancelled_at: str | None = None, currency: str = "USD") -> dict:
    """lines: (line id, variant id, quantity, price)."""
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id}",
        "created_at": "2026-09-01T09:00:00-04:00",
        "processed_at": "2026-09-01T09:00:00-04:00",
        "updated_at": updated_at,
        "cancelled_at": cancelled_at,
        "currency": currency,
        "financial_status": "paid",
        "location_id": location_id,
        "customer": {"id": 555, "email": "jo@example.com"},
        "line_items": [
            {"id": lid, "variant_id": vid, "product_id": 1, "sku": f"SKU-{vid}", "title": "Thing",
             "quantity": qty, "current_quantity": qty, "price": price}
            for lid, vid, qty, price in lines
        ],
    }


def post(path, body, headers, client=None):
    return (client or Client()).post(path, data=body, content_type="application/json", **headers)


def deliver(provider: str, request: tuple[bytes, dict]) -> WebhookEvent:
    """POST a signed delivery through the real view and return the stored row (or the existing one)."""
    body, headers = request
    response = post(f"/webhooks/{provider}/", body, headers)
    assert response.status_code == 200, response.content
    return WebhookEvent.objects.get(provider=provider, event_id=response.json()["event_id"])
