"""Shopify connect: shop domain validation, callback hmac (official test vector) and timestamp, then the exchange
for an expiring offline token and webhook registration through the resilient client (mocked with responses)."""

import json
import time

import pytest
import responses

from integrations.models import Connection, OAuthSession, SyncRun, SyncSchedule
from integrations.providers.shopify.oauth import callback_hmac, clean_shop

from ..vectors import VECTORS
from .conftest import query_of

pytestmark = pytest.mark.django_db
SECRET = "shpss_shelfops_local_secret"


def test_callback_hmac_matches_the_official_library_vector():
    vector = VECTORS["shopify_oauth_callback"]
    assert callback_hmac(vector["query"], vector["client_secret"]) == vector["hmac"]
    assert callback_hmac({**vector["query"], "hmac": "ignored", "signature": "ignored"},
                         vector["client_secret"]) == vector["hmac"]


@pytest.mark.parametrize("shop", ["evil.com", "x.myshopify.com.evil.com", "http://127.0.0.1", "127.0.0.1",
                                  "http://demo.myshopify.com", "demo.myshopify.com/../evil", "-x.myshopify.com",
                                  "demo.myshopify.com@evil.com", "", "a b.myshopify.com", "demo.myshopify.com.",
                                  "demo.myshopify.com:8443"])
def test_bad_shop_values_are_refused_before_any_redirect(merchant_client, shop):
    response = merchant_client.get("/integrations/shopify/connect/", {"shop": shop})
    assert response.status_code == 400
    assert "myshopify.com" in response.content.decode()
    assert not OAuthSession.objects.exists()


@pytest.mark.parametrize("typed, shop", [("demo", "demo.myshopify.com"), ("Demo.MyShopify.com", "demo.myshopify.com"),
                                         ("https://demo-2.myshopify.com/", "demo-2.myshopify.com")])
def test_what_merchants_paste_is_normalised(typed, shop):
    assert clean_shop(typed) == shop


def test_shop_pattern_is_a_setting(settings):
    settings.SHOPIFY_SHOP_DOMAIN_PATTERN = r"^[a-z0-9][a-z0-9\-]*\.shops\.test$"
    assert clean_shop("demo.shops.test") == "demo.shops.test"


def start(client, shop="demo.myshopify.com") -> dict:
    response = client.get("/integrations/shopify/connect/", {"shop": shop})
    assert response.status_code == 302
    assert response["Location"].startswith(f"https://{shop}/admin/oauth/authorize?")
    params = query_of(response["Location"])
    assert "grant_options[]" not in params and "code_challenge" not in params
    assert params["scope"] == "read_products,read_inventory,read_locations,read_orders"
    return params


def signed(query: dict, secret=SECRET) -> dict:
    return {**query, "hmac": callback_hmac(query, secret)}


def callback_query(state, shop="demo.myshopify.com", timestamp=None, code="shopify-code-123"):
    return {"code": code, "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw", "shop": shop, "state": state,
            "timestamp": str(int(time.time()) if timestamp is None else timestamp)}


@pytest.mark.parametrize("tamper", ["wrong_secret", "missing", "edited_code"])
def test_bad_hmac_is_refused_without_exchanging(merchant_client, tamper):
    params = start(merchant_client)
    query = callback_query(params["state"])
    if tamper == "wrong_secret":
        query = signed(query, "not-the-secret")
    elif tamper == "edited_code":
        query = {**signed(query), "code": "attacker-code"}
    with responses.RequestsMock() as mock:  # any provider call would fail the test
        response = merchant_client.get("/integrations/shopify/callback/", query)
        assert len(mock.calls) == 0
    assert response.status_code == 400
    assert "signature" in response.content.decode()
    assert not Connection.objects.exists()


@pytest.mark.parametrize("age", [601, 86400, -3600])
def test_stale_or_future_timestamp_is_refused(merchant_client, age):
    params = start(merchant_client)
    response = merchant_client.get("/integrations/shopify/callback/",
                                   signed(callback_query(params["state"], timestamp=int(time.time()) - age)))
    assert response.status_code == 400
    assert "too old" in response.content.decode()
    assert not Connection.objects.exists()


def test_callback_for_another_shop_is_refused(merchant_client):
    params = start(merchant_client)
    response = merchant_client.get("/integrations/shopify/callback/",
                                   signed(callback_query(params["state"], shop="other.myshopify.com")))
    assert response.status_code == 400
    assert "different shop" in response.content.decode()


@pytest.mark.parametrize("shop", ["evil.com", "x.myshopify.com.evil.com", "http://127.0.0.1"])
def test_bad_shop_in_callback_is_refused(merchant_client, shop):
    params = start(merchant_client)
    response = merchant_client.get("/integrations/shopify/callback/", signed(callback_query(params["state"], shop)))
    assert response.status_code == 400
    assert not Connection.objects.exists()


def _graphql_ok(request):
    body = json.loads(request.body)
    if "shop { name" in body["query"]:  # the readable account name, fetched once at connect
        return 200, {}, json.dumps({"data": {"shop": {"name": "Demo Outfitters"}}})
    topic = body["variables"]["topic"]
    assert body["variables"]["webhookSubscription"]["uri"] == "https://portal.example.test/webhooks/shopify/"
    return 200, {}, json.dumps({"data": {"webhookSubscriptionCreate": {
        "webhookSubscription": {"id": f"gid://shopify/WebhookSubscription/{topic}", "topic": topic},
        "userErrors": []}}})


@responses.activate
def test_successful_connect_stores_tokens_schedules_and_webhooks(merchant_client, retailer, settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    responses.post("https://demo.myshopify.com/admin/oauth/access_token", json={
        "access_token": "shpat_secret_access", "scope": "read_products,read_inventory,read_locations,read_orders",
        "expires_in": 3600, "refresh_token": "shprt_secret_refresh", "refresh_token_expires_in": 7776000})
    graphql = responses.add_callback(responses.POST, "https://demo.myshopify.com/admin/api/2026-10/graphql.json",
                                     callback=_graphql_ok)
    params = start(merchant_client)
    response = merchant_client.get("/integrations/shopify/callback/", signed(callback_query(params["state"])))
    connection = Connection.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/connections/{connection.pk}/"
    exchange = json.loads(responses.calls[0].request.body)
    # oauthlib's authorization-code body: grant_type is the RFC 6749 default Shopify also accepts
    assert exchange == {"grant_type": "authorization_code", "client_id": "shelfops-local-shopify-app",
                        "client_secret": SECRET, "code": "shopify-code-123", "expiring": 1}
    assert (connection.retailer, connection.external_account_id, connection.status) == (
        retailer, "demo.myshopify.com", Connection.Status.ACTIVE)
    assert connection.access_token == "shpat_secret_access" and connection.refresh_token == "shprt_secret_refresh"
    assert connection.scopes == "read_inventory read_locations read_orders read_products"
    assert graphql.call_count == 9  # a webhookSubscriptionCreate per topic (8, incl. REFUNDS_CREATE) + shop name
    assert connection.display_name == "Demo Outfitters"
    assert responses.calls[1].request.headers["X-Shopify-Access-Token"] == "shpat_secret_access"
    assert connection.settings["webhooks"]["failed"] == []
    schedules = {s.stream: s for s in SyncSchedule.objects.filter(connection=connection)}
    assert {k: s.interval_seconds for k, s in schedules.items()} == {
        "locations": 86400, "variants": 86400, "inventory": 900, "orders": 3600, "reconcile_stock": 86400}
    # The initial syncs are queued at once (first data in seconds); the schedules' next slot is one interval on.
    assert all(s.enabled and s.next_run_at > connection.connected_at for s in schedules.values())
    initial = SyncRun.objects.filter(connection=connection, trigger="connect")
    # Every data stream; the stock check waits for its schedule (nothing to compare with before the first sync).
    assert sorted(initial.values_list("stream", flat=True)) == sorted(set(schedules) - {"reconcile_stock"})
    page = merchant_client.get(response["Location"]).content.decode()
    assert "is connected" in page and "Active" in page


def test_a_shop_connected_to_another_retailer_is_refused_before_any_token_is_issued(
    merchant_client, other_retailer
):
    # Shopify revokes a shop's older expiring tokens whenever it issues a new one, so even exchanging the code
    # would break the other retailer's connection: refuse at connect, and again at callback, without a call.
    Connection.objects.create(retailer=other_retailer, provider="shopify", external_account_id="demo.myshopify.com",
                              status=Connection.Status.ACTIVE, access_token="shpat_other_retailers_token")
    refused = merchant_client.get("/integrations/shopify/connect/", {"shop": "demo.myshopify.com"})
    assert refused.status_code == 400
    assert "another ShelfOps retailer" in refused.content.decode()

    Connection.objects.all().delete()
    params = start(merchant_client)  # the shop was free when this attempt started...
    Connection.objects.create(retailer=other_retailer, provider="shopify", external_account_id="demo.myshopify.com",
                              status=Connection.Status.ACTIVE, access_token="shpat_other_retailers_token")
    with responses.RequestsMock() as mock:  # ...and taken before the callback: no exchange may happen
        response = merchant_client.get("/integrations/shopify/callback/", signed(callback_query(params["state"])))
        assert len(mock.calls) == 0
    assert response.status_code == 400
    assert "another ShelfOps retailer" in response.content.decode()
    assert Connection.objects.get().retailer == other_retailer
