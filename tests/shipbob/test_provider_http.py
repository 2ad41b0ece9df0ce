"""ShipBob at the HTTP boundary (``responses``): the OAuth requests as ShipBob documents them, the token answer,
the webhook subscription made at connect, a personal access token checked before it is stored, and the
mappers shared by syncs and webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.test import Client

from integrations.models import Connection, WebhookSubscription
from integrations.oauth.state import s256_challenge
from integrations.providers.shipbob import mappers
from integrations.providers.shipbob.errors import parse_error

pytestmark = pytest.mark.django_db

API = "https://api.shipbob.example.test"
AUTH = "https://auth.shipbob.example.test"


@pytest.fixture(autouse=True)
def shipbob_hosts(settings):
    settings.SHIPBOB_API_URL = API
    settings.SHIPBOB_AUTH_URL = AUTH
    settings.SHIPBOB_CLIENT_ID = "sb-client"
    settings.SHIPBOB_CLIENT_SECRET = "sb-secret-value-1"
    settings.HTTP_MAX_ATTEMPTS = 1
    settings.BASE_URL = "https://portal.example.test"


@pytest.fixture
def merchant_client(merchant_user):
    client = Client()
    client.force_login(merchant_user)
    return client


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_authorize_url_has_pkce_s256_offline_access_state_and_nonce(merchant_client):
    location = merchant_client.get("/integrations/shipbob/connect/")["Location"]
    assert location.startswith(f"{AUTH}/connect/authorize?")
    params = query(location)
    assert params["response_type"] == "code" and params["client_id"] == "sb-client"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert "offline_access" in params["scope"].split() and params["state"] and len(params["nonce"]) >= 22
    assert params["redirect_uri"] == "https://portal.example.test/integrations/shipbob/callback/"


@responses.activate
def test_callback_exchanges_with_secret_and_verifier_then_subscribes_webhooks(merchant_client):
    responses.post(f"{AUTH}/connect/token", json={"access_token": "sb-access-1", "expires_in": 3600,
                                                  "token_type": "Bearer", "refresh_token": "sb-refresh-1",
                                                  "scope": "openid offline_access inventory_read"})
    responses.get(f"{API}/2026-07/channel", json=[{"id": 551045, "name": "ShelfOps", "scopes": []}])
    responses.post(f"{API}/2026-07/webhook", status=201, json={"id": "77", "topics": ["order.shipped"]})
    params = query(merchant_client.get("/integrations/shipbob/connect/")["Location"])
    answer = merchant_client.get("/integrations/shipbob/callback/", {"code": "sb-code-1", "state": params["state"]})
    assert answer.status_code == 302, answer.content
    sent = parse_qs(responses.calls[0].request.body)
    assert sent["grant_type"] == ["authorization_code"] and sent["client_secret"] == ["sb-secret-value-1"]
    assert s256_challenge(sent["code_verifier"][0]) == params["code_challenge"]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer sb-access-1"
    connection = Connection.objects.get(provider="shipbob")
    assert connection.external_account_id == "551045" and connection.refresh_token == "sb-refresh-1"
    assert set(connection.scopes.split()) == {"openid", "offline_access", "inventory_read"}
    import json

    body = json.loads(responses.calls[2].request.body)
    subscription = WebhookSubscription.objects.get(connection=connection)
    assert body["secret"] == subscription.secret and body["topics"] == ["order.shipped", "order.shipment.cancelled"]
    assert body["url"] == f"https://portal.example.test/webhooks/shipbob/{subscription.segment}/"
    assert subscription.external_id == "77"


@responses.activate
def test_a_refused_personal_access_token_stores_nothing(merchant_client):
    responses.get(f"{API}/2026-07/channel", status=401, json={"title": "Unauthorized", "status": 401})
    page = merchant_client.post("/integrations/shipbob/token/", {"token": "pat-wrong"}, follow=True)
    assert page.status_code == 200 and "ShipBob did not accept this token" in page.content.decode()
    assert not Connection.objects.exists()
    assert "pat-wrong" not in page.content.decode()


def test_a_token_with_spaces_or_control_characters_is_refused_without_a_call(merchant_client):
    page = merchant_client.post("/integrations/shipbob/token/", {"token": "two words"}, follow=True)
    assert "does not look like a token" in page.content.decode()


def test_mappers_fulfilment_centre_levels_and_shipment():
    location = mappers.map_fulfilment_centre({"id": 228, "name": "Moreno Valley (CA)", "address1": "1 A St",
                                              "city": "Moreno Valley", "state": "CA", "timezone": "PST"})
    assert (location.external_id, location.kind) == ("228", "warehouse")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    levels = mappers.map_levels([{"inventory_id": 9, "locations": [
        {"location_id": 228, "on_hand_quantity": 10, "committed_quantity": 3, "fulfillable_quantity": 7,
         "awaiting_quantity": 5}]}], now)
    assert levels[0].on_hand == 10 and levels[0].committed == 3 and levels[0].available == 7
    assert levels[0].incoming == 5 and levels[0].location_external_id == "228"
    shipment = {"id": 5, "order_id": 3, "status": "Completed", "location": {"id": 228},
                "actual_fulfillment_date": "2026-11-30T10:00:00Z",
                "products": [{"sku": "SKU-1", "inventory_items": [{"id": 9, "quantity": 2}]}]}
    (line,) = mappers.map_shipment(shipment)
    assert (line.kind, line.quantity, line.item_external_id, line.order_external_id) == (
        "shipment", Decimal(2), "9", "3/5")
    assert mappers.map_shipment({**shipment, "status": "Processing"}) == []
    assert mappers.map_shipment({**shipment, "status": "Cancelled"})[0].state == "cancelled"


def test_error_bodies():
    limited = parse_error(429, {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 25 seconds."})
    assert limited.rate_limited and "25 seconds" in limited.detail
    invalid = parse_error(400, {"title": "Bad Request", "errors": {"PageSize": ["must be 1-250"]}})
    assert "PageSize: must be 1-250" in invalid.detail and invalid.codes == ["Bad Request"]
    assert parse_error(401, None).auth


@responses.activate
def test_refresh_sends_the_secret_form_encoded_and_keeps_the_rotated_token(retailer):
    from integrations.providers import get_provider

    responses.post(f"{AUTH}/connect/token", json={"access_token": "sb-access-2", "expires_in": 3600,
                                                  "refresh_token": "sb-refresh-2"})
    connection = Connection.objects.create(retailer=retailer, provider="shipbob", external_account_id="551045",
                                           status=Connection.Status.ACTIVE, access_token="sb-access-1",
                                           refresh_token="sb-refresh-1")
    tokens = get_provider("shipbob").oauth().refresh(connection)
    sent = parse_qs(responses.calls[0].request.body)
    assert sent == {"grant_type": ["refresh_token"], "client_id": ["sb-client"],
                    "client_secret": ["sb-secret-value-1"], "refresh_token": ["sb-refresh-1"]}
    assert (tokens.access_token, tokens.refresh_token) == ("sb-access-2", "sb-refresh-2")


@responses.activate
def test_disconnect_deletes_the_webhook_subscription(retailer):
    from integrations.oauth.disconnect import disconnect

    connection = Connection.objects.create(retailer=retailer, provider="shipbob", external_account_id="551045",
                                           status=Connection.Status.ACTIVE, access_token="sb-access-1")
    WebhookSubscription.objects.create(connection=connection, provider="shipbob", segment="seg-1",
                                       external_id="77", secret="whsec_" + "A" * 44)
    responses.delete(f"{API}/2026-07/webhook/77", status=204)
    result = disconnect(connection, reason="test")
    assert result.revoke_outcome == "not offered"
    assert not WebhookSubscription.objects.exists() and len(responses.calls) == 1


def test_webhook_urls_refuse_readably():
    client = Client()
    # A provider whose secret is not per subscription takes no segment: 404, not a 500.
    assert client.post("/webhooks/square/abc/", b"{}", content_type="application/json").status_code == 404
    # ShipBob without a segment, or with one nobody subscribed, or without signature headers: 401, nothing stored.
    headers = {"HTTP_WEBHOOK_ID": "msg_1", "HTTP_WEBHOOK_TIMESTAMP": "1", "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA"}
    assert client.post("/webhooks/shipbob/", b"{}", content_type="application/json", **headers).status_code == 401
    unknown = client.post("/webhooks/shipbob/nobody/", b"{}", content_type="application/json", **headers)
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_signature"
    bare = client.post("/webhooks/shipbob/nobody/", b"{}", content_type="application/json")
    assert bare.status_code == 401 and bare.json()["error"] == "missing_signature"
    from integrations.models import WebhookEvent

    assert not WebhookEvent.objects.exists()
