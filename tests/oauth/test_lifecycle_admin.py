"""Admin action "Test connection": a cheap authenticated call per provider; success names what answered, a 401
or a provider that is down gives a readable error, and no message ever carries a token or the client secret."""

import json
from datetime import timedelta

import pytest
import requests
import responses
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from integrations.models import Connection

from .conftest import make_connection

pytestmark = pytest.mark.django_db

SQUARE = "https://square.example.test"


@pytest.fixture
def staff(db, settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123"))
    return client


def test_connection(staff, *connections) -> list[tuple[str, str]]:
    response = staff.post(reverse("admin:integrations_connection_changelist"),
                          {"action": "test_connection", "_selected_action": [c.pk for c in connections]},
                          follow=True)
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


test_connection.__test__ = False  # a helper, not a test


def assert_no_secret(messages, connection, settings):
    text = " ".join(m for _, m in messages)
    stored = Connection.objects.get(pk=connection.pk)
    for secret in (connection.access_token, connection.refresh_token, stored.access_token, stored.refresh_token,
                   settings.SQUARE_CLIENT_SECRET, settings.SHOPIFY_CLIENT_SECRET, settings.NETSUITE_CLIENT_SECRET):
        if secret:
            assert secret not in text


@responses.activate
def test_success_on_each_provider_names_what_answered(staff, retailer, settings):
    square = make_connection(retailer, account="SQ-TEST", expires_in=timedelta(days=20))
    shop = make_connection(retailer, "shopify", "test-shop.myshopify.com", expires_in=timedelta(minutes=50))
    netsuite = make_connection(retailer, "netsuite", "1234567_SB1", expires_in=timedelta(minutes=50))
    responses.get(f"{SQUARE}/v2/locations", json={"locations": [{"id": "L1"}, {"id": "L2"}]})
    responses.post(f"https://test-shop.myshopify.com/admin/api/{settings.SHOPIFY_API_VERSION}/graphql.json",
                   json={"data": {"shop": {"name": "Test Shop", "myshopifyDomain": "test-shop.myshopify.com"}}})
    responses.post("https://1234567-sb1.suitetalk.netsuite.example.test/services/rest/query/v1/suiteql",
                   json={"items": [{"id": "1"}], "totalResults": 3, "hasMore": False})

    messages = test_connection(staff, square, shop, netsuite)

    assert sorted(messages) == sorted([
        ("success", f"{square}: OK. Square answered: 2 location(s) visible."),
        ("success", f"{shop}: OK. Shopify answered: shop Test Shop."),
        ("success", f"{netsuite}: OK. NetSuite answered: 3 location(s)."),
    ])
    # Authenticated calls with the stored token, no token refresh needed.
    sent = {c.request.url.split("?")[0]: c.request.headers for c in responses.calls}
    assert sent[f"{SQUARE}/v2/locations"]["Authorization"] == "Bearer at-old-0001"
    assert json.loads(responses.calls[1].request.body)["query"].startswith("{ shop")
    assert not any("token" in url for url in sent)
    for connection in (square, shop, netsuite):
        assert_no_secret(messages, connection, settings)


@responses.activate
def test_a_401_gives_a_readable_error_without_secrets(staff, retailer, settings):
    settings.HTTP_MAX_ATTEMPTS = 2  # the client's "401 -> forced refresh -> one more try" needs a second attempt
    connection = make_connection(retailer, account="SQ-401", expires_in=timedelta(days=20),
                                 access="EAAA-secret-access", refresh="EQAA-secret-refresh")
    unauthorized = {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED",
                                "detail": "This request could not be authorized."}]}
    responses.get(f"{SQUARE}/v2/locations", status=401, json=unauthorized)
    # The client refreshes once after a 401; the grant is dead too, so the connection needs the merchant.
    responses.post(f"{SQUARE}/oauth2/token", status=401, json=unauthorized)

    messages = test_connection(staff, connection)

    assert len(messages) == 1
    level, text = messages[0]
    assert (level, text) == ("error", f"{connection}: failed (ProviderAuthError). "
                                      "Square access was revoked or has expired: reconnect.")
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.NEEDS_RECONNECT
    assert_no_secret(messages, connection, settings)
    assert "EAAA-secret-access" not in text and "EQAA-secret-refresh" not in text


@responses.activate
def test_a_401_on_the_api_call_after_a_good_refresh_reports_http_401(staff, retailer, settings):
    settings.HTTP_MAX_ATTEMPTS = 2
    connection = make_connection(retailer, account="SQ-401B", expires_in=timedelta(days=20),
                                 access="EAAA-secret-access-b")
    responses.get(f"{SQUARE}/v2/locations", status=401, json={"errors": [{"code": "UNAUTHORIZED"}]})
    responses.post(f"{SQUARE}/oauth2/token", json={"access_token": "EAAA-refreshed-b", "merchant_id": "SQ-401B",
                                                   "expires_at": "2099-01-01T00:00:00Z", "refresh_token": "EQAA-b2"})

    messages = test_connection(staff, connection)

    assert messages == [("error", f"{connection}: failed (ProviderAuthError, HTTP 401).")]
    assert [c.request.url.split("?")[0] for c in responses.calls] == [
        f"{SQUARE}/v2/locations", f"{SQUARE}/oauth2/token", f"{SQUARE}/v2/locations"]
    assert responses.calls[2].request.headers["Authorization"] == "Bearer EAAA-refreshed-b"
    assert_no_secret(messages, connection, settings)


@responses.activate
def test_provider_down_gives_a_readable_error(staff, retailer, settings):
    connection = make_connection(retailer, "shopify", "down-shop.myshopify.com", expires_in=timedelta(minutes=50),
                                 access="shpat_secret_down")
    responses.post(f"https://down-shop.myshopify.com/admin/api/{settings.SHOPIFY_API_VERSION}/graphql.json",
                   body=requests.ConnectionError("connection refused"))

    messages = test_connection(staff, connection)

    assert messages == [("error", f"{connection}: failed (ProviderUnavailable).")]
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.ACTIVE
    assert_no_secret(messages, connection, settings)


@responses.activate
def test_provider_5xx_reports_the_status(staff, retailer, settings):
    connection = make_connection(retailer, account="SQ-503", expires_in=timedelta(days=20))
    responses.get(f"{SQUARE}/v2/locations", status=503, json={"errors": [{"code": "SERVICE_UNAVAILABLE"}]})

    messages = test_connection(staff, connection)

    assert messages == [("error", f"{connection}: failed (ProviderUnavailable, HTTP 503).")]


def test_disconnected_connection_is_not_called(staff, retailer):
    connection = make_connection(retailer, account="SQ-OFF", status=Connection.Status.DISCONNECTED)
    with responses.RequestsMock():
        messages = test_connection(staff, connection)
    assert messages == [("warning", f"{connection}: disconnected, nothing to test.")]
