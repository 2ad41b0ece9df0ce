"""Square and NetSuite connects end to end at the HTTP boundary (responses), reconnect semantics, one external
account per retailer, and: no token, code, verifier or client secret in any log line, admin page or portal page."""

import json
import logging
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.test import Client

from integrations.models import ApiCallLog, Connection, OAuthSession, SyncSchedule

from .conftest import make_connection, query_of, rfc7636_s256

pytestmark = pytest.mark.django_db

SQ = "https://square.example.test"
NS_API = "https://1234567-sb1.suitetalk.netsuite.example.test"
SECRETS = ["sq0csp-shelfops-local-secret", "shelfops-local-netsuite-secret", "sq0cgp-CODE-secret-1",
           "ns-code-secret-1", "EAAAl-access-secret", "EQAAl-refresh-secret", "ns-access-secret", "ns-refresh-secret"]


@pytest.fixture(autouse=True)
def fast(settings):
    settings.HTTP_MAX_ATTEMPTS = 1


def square_token_mock(merchant="MLSECRETTEST1"):
    responses.post(f"{SQ}/oauth2/token", json={
        "access_token": "EAAAl-access-secret", "token_type": "bearer", "expires_at": "2099-01-30T00:00:00Z",
        "merchant_id": merchant, "refresh_token": "EQAAl-refresh-secret",
        "refresh_token_expires_at": "2099-04-01T00:00:00Z"})
    responses.post(f"{SQ}/oauth2/token/status", json={"scopes": ["ITEMS_READ", "ORDERS_READ"],
                                                       "merchant_id": merchant})


def connect_square(client, code="sq0cgp-CODE-secret-1"):
    params = query_of(client.get("/integrations/square/connect/")["Location"])
    return params, client.get("/integrations/square/callback/", {"code": code, "state": params["state"],
                                                                 "response_type": "code"})


@responses.activate
def test_square_connect_exchanges_with_the_verifier_and_records_merchant_and_scopes(merchant_client, retailer):
    square_token_mock()
    params, response = connect_square(merchant_client)
    assert response.status_code == 302
    sent = json.loads(responses.calls[0].request.body)
    assert sent["grant_type"] == "authorization_code" and "client_secret" not in sent
    assert rfc7636_s256(sent["code_verifier"]) == params["code_challenge"]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer EAAAl-access-secret"
    connection = Connection.objects.get()
    assert (connection.external_account_id, connection.scopes) == ("MLSECRETTEST1", "ITEMS_READ ORDERS_READ")
    assert connection.refresh_token_expires_at.year == 2099
    assert SyncSchedule.objects.filter(connection=connection).count() == 5  # four data streams, the stock check
    session = OAuthSession.objects.get(state=params["state"])
    assert session.code_verifier is None and session.outcome.startswith("connected")


@responses.activate
def test_reconnecting_the_same_account_updates_the_connection(merchant_client, retailer):
    existing = make_connection(retailer, account="MLSECRETTEST1", status=Connection.Status.NEEDS_RECONNECT,
                               problem="Square access was revoked or has expired: reconnect.")
    SyncSchedule.objects.create(connection=existing, stream="orders", interval_seconds=60, enabled=False,
                                next_run_at=existing.created_at + timedelta(days=1))
    square_token_mock()
    assert connect_square(merchant_client)[1].status_code == 302
    assert Connection.objects.count() == 1
    existing.refresh_from_db()
    assert existing.status == Connection.Status.ACTIVE and existing.problem == ""
    assert existing.access_token == "EAAAl-access-secret"
    orders = SyncSchedule.objects.get(connection=existing, stream="orders")
    assert orders.enabled and orders.interval_seconds == 60  # staff's interval edit survives


@responses.activate
def test_an_account_attached_to_another_retailer_is_refused(merchant_client, other_retailer):
    theirs = make_connection(other_retailer, account="MLSECRETTEST1")
    square_token_mock()
    params, response = connect_square(merchant_client)
    assert response.status_code == 400
    assert "already connected to another ShelfOps retailer" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.retailer == other_retailer and theirs.access_token == "at-old-0001"
    assert Connection.objects.count() == 1


@responses.activate
def test_provider_refusing_the_code_is_a_readable_error(merchant_client):
    responses.post(f"{SQ}/oauth2/token", status=401, json={"errors": [{"code": "UNAUTHORIZED"}]})
    response = connect_square(merchant_client)[1]
    assert response.status_code == 400
    assert "did not accept the authorization" in response.content.decode()
    assert not Connection.objects.exists()


@responses.activate
def test_netsuite_connect_uses_account_hosts_basic_auth_and_pkce(merchant_client, retailer):
    responses.post(f"{NS_API}/services/rest/auth/oauth2/v1/token", json={
        "access_token": "ns-access-secret", "refresh_token": "ns-refresh-secret", "expires_in": "3600",
        "token_type": "bearer"})
    start = merchant_client.get("/integrations/netsuite/connect/", {"account": "1234567_sb1"})
    assert start["Location"].startswith("https://1234567-sb1.app.netsuite.example.test/app/login/oauth2/authorize.nl?")
    params = query_of(start["Location"])
    assert params["code_challenge_method"] == "S256" and params["scope"] == "rest_webservices"
    assert 22 <= len(params["state"]) <= 1024
    response = merchant_client.get("/integrations/netsuite/callback/",
                                   {"code": "ns-code-secret-1", "state": params["state"], "company": "1234567_SB1"})
    assert response.status_code == 302
    request = responses.calls[0].request
    body = {k: v[0] for k, v in parse_qs(request.body).items()}
    assert body["grant_type"] == "authorization_code" and body["code_verifier"]
    assert request.headers["Authorization"].startswith("Basic ")
    connection = Connection.objects.get()
    assert connection.external_account_id == "1234567_SB1" and connection.refresh_token_expires_at


def test_netsuite_rejects_a_bad_account_id(merchant_client):
    for account in ["", "abc", "1234567.evil.com", "1234567_SB1/../x"]:
        response = merchant_client.get("/integrations/netsuite/connect/", {"account": account})
        assert response.status_code == 400 and "NetSuite account id" in response.content.decode()


def test_netsuite_callback_for_another_company_is_refused(merchant_client):
    params = query_of(merchant_client.get("/integrations/netsuite/connect/", {"account": "1234567"})["Location"])
    response = merchant_client.get("/integrations/netsuite/callback/",
                                   {"code": "ns-code-secret-1", "state": params["state"], "company": "7654321"})
    assert response.status_code == 400 and not Connection.objects.exists()


@responses.activate
def test_no_secret_in_logs_pages_admin_or_call_log(merchant_client, merchant_user, retailer, django_user_model,
                                                   caplog, capsys):
    caplog.set_level(logging.DEBUG)
    square_token_mock()
    responses.post(f"{NS_API}/services/rest/auth/oauth2/v1/token", json={
        "access_token": "ns-access-secret", "refresh_token": "ns-refresh-secret", "expires_in": "3600"})
    responses.post(f"{SQ}/oauth2/revoke", json={"success": True})
    pages = []
    _, done = connect_square(merchant_client)
    pages.append(merchant_client.get(done["Location"]))
    params = query_of(merchant_client.get("/integrations/netsuite/connect/", {"account": "1234567_SB1"})["Location"])
    merchant_client.get("/integrations/netsuite/callback/", {"code": "ns-code-secret-1", "state": params["state"]})
    # error pages: replayed state with a code, denial, forged state
    pages.append(merchant_client.get("/integrations/netsuite/callback/", {"code": "ns-code-secret-1",
                                                                          "state": params["state"]}))
    pages.append(merchant_client.get("/integrations/square/callback/", {"code": "sq0cgp-CODE-secret-1",
                                                                        "state": "forged"}))
    pages.append(merchant_client.get("/portal/"))
    staff = django_user_model.objects.create_superuser("root", password="pw-root-12345")
    admin = Client()
    admin.force_login(staff)
    for connection in Connection.objects.all():
        pages.append(admin.get(f"/admin/integrations/connection/{connection.pk}/change/"))
    pages += [admin.get("/admin/integrations/connection/"), admin.get("/admin/integrations/oauthsession/"),
              admin.get("/admin/integrations/apicalllog/")]
    for session in OAuthSession.objects.all():
        pages.append(admin.get(f"/admin/integrations/oauthsession/{session.pk}/change/"))
    square = Connection.objects.get(provider="square")
    pages.append(admin.post("/admin/integrations/connection/", {"action": "disconnect_connections",
                                                               "_selected_action": [square.pk]}, follow=True))
    states = list(OAuthSession.objects.values_list("state", flat=True))
    verifier = json.loads(responses.calls[0].request.body)["code_verifier"]
    assert all(p.status_code in (200, 302, 400) for p in pages)
    html = "\n".join(p.content.decode() for p in pages)
    logs = "\n".join(r.getMessage() for r in caplog.records) + capsys.readouterr().err
    calllog = "\n".join(f"{c.url} {c.error}" for c in ApiCallLog.objects.all())
    for secret in [*SECRETS, verifier]:
        assert secret not in html, secret
        assert secret not in logs, secret
        assert secret not in calllog, secret
    for state in states:
        assert state not in logs
