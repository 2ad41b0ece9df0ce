"""Hostile webhook bodies and OAuth callbacks get a clear 4xx with the reason recorded, never a 500 and never a
503 "retry later" (issue 16): deeply nested JSON, NUL characters in Square's envelope fields or anywhere in a
payload, lone surrogates, a NUL in the OAuth ``state``. A refused delivery is counted in WebhookRejection and
nothing is stored, so no worker ever retries it as if the failure were transient."""

import json

import pytest
from django.test import Client

from integrations.models import OAuthSession, WebhookEvent, WebhookRejection
from tests.webhooks.conftest import webhook_settings  # noqa: F401 - autouse: the test signing keys
from tests.webhooks.helpers import SQUARE_MERCHANT, shopify_request, square_event, square_request

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


def post_square(body: bytes):
    body, headers = square_request(body)
    return Client().post("/webhooks/square/", body, content_type="application/json", **headers)


def nested(depth: int) -> bytes:
    return b'{"event_id": "deep", "type": "x", "data": ' + b"[" * depth + b"]" * depth + b"}"


def rejected(reason: str) -> int:
    return sum(WebhookRejection.objects.filter(reason=reason).values_list("count", flat=True))


@pytest.mark.parametrize("depth", [65, 900, 5_000, 100_000])
def test_deeply_nested_json_is_refused_with_400(depth):
    response = post_square(nested(depth))
    assert response.status_code == 400, response.content[:200]
    assert response.json()["error"] == "json_too_deep"
    assert rejected("json_too_deep") == 1 and not WebhookEvent.objects.exists()


def test_nesting_within_the_limit_is_stored():
    assert post_square(nested(40)).status_code == 200
    assert WebhookEvent.objects.filter(event_id="deep").exists()


@pytest.mark.parametrize("field", ["event_id", "type", "merchant_id"])
def test_nul_in_a_square_envelope_field_is_refused_not_retried(field):
    event = square_event("inventory.count.updated", {"inventory_counts": []})
    event[field] = event[field][:4] + "\x00" + event[field][4:]
    response = post_square(event)
    assert response.status_code == 400, response.content[:200]  # was 503: Square would have retried for a day
    body = response.json()
    assert body["error"] == "unstorable_text" and "NUL" in body["detail"]
    assert rejected("unstorable_text") == 1 and not WebhookEvent.objects.exists()


def test_nul_anywhere_in_the_payload_is_refused():
    event = square_event("inventory.count.updated", {"inventory_counts": [{"catalog_object_id": "A\x00B"}]})
    response = post_square(event)
    assert response.status_code == 400 and response.json()["error"] == "unstorable_text"
    assert not WebhookEvent.objects.exists()
    # The sample kept for staff is escaped text, readable and storable.
    sample = WebhookRejection.objects.get(reason="unstorable_text").samples[0]
    assert "\x00" not in json.dumps(sample, ensure_ascii=False)


def test_a_lone_surrogate_in_the_payload_is_refused():
    body = json.dumps(square_event("inventory.count.updated", {"note": "\ud800"})).encode()  # ASCII \\ud800 escape
    response = post_square(body)
    assert response.status_code == 400 and response.json()["error"] == "unstorable_text"
    assert "surrogate" in response.json()["detail"] and not WebhookEvent.objects.exists()


def test_a_nul_in_a_shopify_header_is_refused():
    body, headers = shopify_request("orders/updated", {"id": 1})
    headers["HTTP_X_SHOPIFY_TOPIC"] = "orders/\x00updated"
    response = Client().post("/webhooks/shopify/", body, content_type="application/json", **headers)
    assert response.status_code == 400 and response.json()["error"] == "unstorable_text"
    assert not WebhookEvent.objects.exists()


def test_an_ordinary_event_still_stores(retailer):
    event = square_event("inventory.count.updated", {"inventory_counts": []}, merchant=SQUARE_MERCHANT)
    assert post_square(event).status_code == 200
    assert WebhookEvent.objects.count() == 1 and not WebhookRejection.objects.exists()


@pytest.mark.parametrize("state", ["abc\x00def", "\x00", "x" * 5000])
def test_oauth_callback_with_a_hostile_state_gets_a_readable_400(merchant_user, state):
    client = Client()
    client.force_login(merchant_user)
    response = client.get("/integrations/square/callback/", {"state": state, "code": "sq0cgp-code"})
    assert response.status_code == 400
    assert b"not valid" in response.content and b"Traceback" not in response.content
    assert "\x00" not in response.content.decode()
    assert not OAuthSession.objects.filter(used_at__isnull=False).exists()
