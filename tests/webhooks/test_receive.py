"""Receiving webhooks: verify over the raw bytes, store before acknowledging, dedupe, refuse what is not genuine."""

import json
import logging

import pytest
from django.test import Client, override_settings

from integrations.models import WebhookEvent, WebhookRejection
from integrations.providers.shopify.webhooks import signature_for as shopify_signature_for
from integrations.providers.square.webhooks import notification_url
from integrations.providers.square.webhooks import signature_for as square_signature_for

from ..vectors import VECTORS
from .helpers import (
    SQUARE_KEY,
    SQUARE_MERCHANT,
    SQUARE_URL,
    post,
    shopify_request,
    square_event,
    square_request,
)

pytestmark = pytest.mark.django_db


def inventory_event(**kw):
    return square_event("inventory.count.updated", {"inventory_counts": []}, data_type="inventory_counts", **kw)


# --- signatures, checked against the providers' own libraries and known-good vectors --------------------------

def test_square_signature_matches_the_reference_vector_and_the_sdk():
    from square.utils.webhooks_helper import verify_signature

    v = VECTORS["square_webhook"]
    ours = square_signature_for(v["body"].encode(), key=v["signature_key"], url=v["notification_url"])
    assert ours == v["signature"]
    assert verify_signature(request_body=v["body"], signature_header=ours, signature_key=v["signature_key"],
                            notification_url=v["notification_url"])


def test_shopify_signature_matches_the_reference_vector():
    v = VECTORS["shopify_webhook"]
    assert shopify_signature_for(v["body"].encode(), secret=v["client_secret"]) == v["signature"]


@pytest.mark.parametrize("mutation", ["none", "tampered body", "wrong key", "trailing slash", "no slash", "empty"])
def test_square_verifier_agrees_with_the_sdk_on_accept_and_reject(mutation):
    from square.utils.webhooks_helper import verify_signature

    from integrations.providers.square.webhooks import receiver

    body = json.dumps(inventory_event()).encode()
    key, url = SQUARE_KEY, SQUARE_URL
    signature = square_signature_for(body, key=key, url=url)
    if mutation == "tampered body":
        body = body.replace(b"inventory", b"inventorY")
    elif mutation == "wrong key":
        signature = square_signature_for(body, key="another-key", url=url)
    elif mutation == "trailing slash":
        signature = square_signature_for(body, key=key, url=url + "/")
    elif mutation == "no slash":
        signature = square_signature_for(body, key=key, url=url.rstrip("/"))
    elif mutation == "empty":
        body = b""
    sdk = verify_signature(request_body=body.decode(), signature_header=signature, signature_key=key,
                           notification_url=url)
    ours = receiver.verify(body, {"x-square-hmacsha256-signature": signature})
    assert ours == sdk == (mutation == "none")


def test_square_notification_url_comes_from_settings_never_from_the_request():
    with override_settings(SQUARE_WEBHOOK_NOTIFICATION_URL="", BASE_URL="https://shelfops.example"):
        assert notification_url() == "https://shelfops.example/webhooks/square/"
    assert notification_url() == SQUARE_URL


# --- the receive view ------------------------------------------------------------------------------------------

def test_verified_square_event_is_stored_with_connection_and_headers_minus_secrets(square_connection):
    event = inventory_event()
    body, headers = square_request(event)
    response = post("/webhooks/square/", body, {**headers, "HTTP_X_SQUARE_SIGNATURE": "legacy-sha1",
                                                "HTTP_SQUARE_RETRY_NUMBER": "2"})
    assert response.status_code == 200, response.content
    row = WebhookEvent.objects.get()
    assert (row.provider, row.event_id, row.topic) == ("square", event["event_id"], "inventory.count.updated")
    assert row.connection == square_connection and row.external_account_id == SQUARE_MERCHANT
    assert bytes(row.body) == body
    # Stored "received": the dispatcher woken after commit marks it "queued" when it sends the task.
    assert row.status == WebhookEvent.Status.RECEIVED and row.enqueued_at is None
    assert row.headers["square-retry-number"] == "2"
    assert not {"x-square-hmacsha256-signature", "x-square-signature"} & set(row.headers)
    assert headers["HTTP_X_SQUARE_HMACSHA256_SIGNATURE"] not in json.dumps(row.headers)


def test_shopify_event_id_is_the_event_id_header_falling_back_to_the_webhook_id(shopify_connection):
    body, headers = shopify_request("products/update", {"id": 1, "variants": []}, event_id="evt-1")
    assert post("/webhooks/shopify/", body, headers).status_code == 200
    body, headers = shopify_request("products/update", {"id": 2, "variants": []}, webhook_id="whk-2",
                                    with_event_id=False)
    assert post("/webhooks/shopify/", body, headers).status_code == 200
    assert set(WebhookEvent.objects.values_list("event_id", flat=True)) == {"evt-1", "whk-2"}
    row = WebhookEvent.objects.get(event_id="evt-1")
    assert row.connection == shopify_connection and row.topic == "products/update"
    assert "x-shopify-hmac-sha256" not in row.headers and row.headers["x-shopify-topic"] == "products/update"


def test_duplicate_delivery_answers_200_and_changes_nothing(square_connection):
    body, headers = square_request(inventory_event())
    assert post("/webhooks/square/", body, headers).status_code == 200
    WebhookEvent.objects.update(status=WebhookEvent.Status.PROCESSED, outcome="done")
    before = list(WebhookEvent.objects.values())
    response = post("/webhooks/square/", body, headers)
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    assert list(WebhookEvent.objects.values()) == before


@pytest.mark.parametrize("case", ["tampered body", "wrong key", "missing header", "different trailing slash",
                                  "wrong provider's scheme", "not base64"])
def test_square_forgeries_get_401_and_nothing_is_stored(square_connection, case):
    event = inventory_event()
    body, headers = square_request(event)
    if case == "tampered body":
        body = body.replace(b"inventory_counts", b"inventory_countz")
    elif case == "wrong key":
        body, headers = square_request(event, key="not-the-key")
    elif case == "missing header":
        headers = {}
    elif case == "different trailing slash":
        body, headers = square_request(event, url=SQUARE_URL.rstrip("/"))
    elif case == "wrong provider's scheme":  # the seed note's hex digest of the body alone
        import hashlib
        import hmac
        headers = {"HTTP_X_SQUARE_HMACSHA256_SIGNATURE": hmac.new(SQUARE_KEY.encode(), body,
                                                                   hashlib.sha256).hexdigest()}
    elif case == "not base64":
        headers = {"HTTP_X_SQUARE_HMACSHA256_SIGNATURE": "ünïcode ☃"}
    response = post("/webhooks/square/", body, headers)
    assert response.status_code == 401
    assert response.json()["error"] == ("missing_signature" if case == "missing header" else "invalid_signature")
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("case", ["tampered body", "wrong secret", "missing header"])
def test_shopify_forgeries_get_401_and_nothing_is_stored(shopify_connection, case):
    payload = {"id": 1, "variants": []}
    body, headers = shopify_request("products/update", payload)
    if case == "tampered body":
        body = body.replace(b'"id": 1', b'"id": 2')
    elif case == "wrong secret":
        body, headers = shopify_request("products/update", payload, secret="nope")
    elif case == "missing header":
        del headers["HTTP_X_SHOPIFY_HMAC_SHA256"]
    assert post("/webhooks/shopify/", body, headers).status_code == 401
    assert not WebhookEvent.objects.exists()


def test_rejections_are_counted_with_a_bounded_sample_and_no_signature(square_connection, caplog):
    body, _ = square_request(inventory_event())
    forged = "Zm9yZ2VkLXNpZ25hdHVyZQ=="
    with override_settings(WEBHOOK_REJECTION_SAMPLES=3), caplog.at_level(logging.DEBUG):
        for _ in range(5):
            assert post("/webhooks/square/", body, {"HTTP_X_SQUARE_HMACSHA256_SIGNATURE": forged}).status_code == 401
        assert post("/webhooks/square/", body, {}).status_code == 401
    bad = WebhookRejection.objects.get(provider="square", reason="invalid_signature")
    assert bad.count == 5 and len(bad.samples) == 3
    assert bad.samples[0]["body_bytes"] == len(body) and bad.samples[0]["remote_addr"] == "127.0.0.1"
    assert WebhookRejection.objects.get(reason="missing_signature").count == 1
    stored = json.dumps(list(WebhookRejection.objects.values("samples")))
    assert forged not in stored and SQUARE_KEY not in stored
    assert forged not in caplog.text and SQUARE_KEY not in caplog.text


def test_oversized_body_gets_413_before_anything_is_stored(square_connection):
    event = inventory_event()
    event["padding"] = "x" * 5000
    body, headers = square_request(event)
    with override_settings(WEBHOOK_MAX_BODY_BYTES=4096):
        response = post("/webhooks/square/", body, headers)
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    assert not WebhookEvent.objects.exists()
    assert WebhookRejection.objects.get(reason="body_too_large").count == 1


@pytest.mark.parametrize("provider", ["square", "shopify"])
def test_signed_but_malformed_json_is_stored_as_failed_and_answered_200(square_connection, shopify_connection,
                                                                          provider):
    body = b'{"merchant_id": "MLSQ4R3M3RCH4NT", "type": "order.updated", "event_id": '
    if provider == "square":
        _, headers = square_request(body)
    else:
        _, headers = shopify_request("orders/updated", body, event_id="evt-broken")
    response = post(f"/webhooks/{provider}/", body, headers)
    assert response.status_code == 200
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.FAILED and row.error.startswith("malformed JSON")
    assert bytes(row.body) == body
    # The provider's retry of the same broken body is a duplicate, not a second row.
    assert post(f"/webhooks/{provider}/", body, headers).json()["status"] == "duplicate"
    assert WebhookEvent.objects.count() == 1


def test_event_for_an_unknown_account_is_stored_unmatched(square_connection):
    body, headers = square_request(inventory_event(merchant="SOMEONE-ELSE"))
    response = post("/webhooks/square/", body, headers)
    assert response.status_code == 200 and response.json()["status"] == "unmatched"
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.UNMATCHED and row.connection is None
    assert row.external_account_id == "SOMEONE-ELSE"


def test_topic_the_portal_does_not_use_is_stored_ignored(square_connection, shopify_connection):
    body, headers = square_request(square_event("customer.created", {"customer": {"id": "C1"}}))
    assert post("/webhooks/square/", body, headers).json()["status"] == "ignored"
    body, headers = shopify_request("carts/update", {"id": "c1"})
    assert post("/webhooks/shopify/", body, headers).json()["status"] == "ignored"
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.IGNORED}


def test_get_and_unknown_provider_are_refused_cleanly():
    assert Client().get("/webhooks/square/").status_code == 405
    assert Client().post("/webhooks/netsuite/", data=b"{}", content_type="application/json").status_code == 404
