"""No token, code, client secret, verifier or signature ends up in a call-log row or a log line."""

from __future__ import annotations

import logging

import pytest
import responses
from django.conf import settings

from integrations.http import app_client
from integrations.http.errors import ProviderAuthError, ProviderError
from integrations.http.redaction import redact_text, redact_url
from integrations.models import ApiCallLog

from .conftest import ACCESS_TOKEN

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "sq0csp-very-secret-client-secret-123"
AUTH_CODE = "sq0cgp-one-time-auth-code-987"
VERIFIER = "pkce-verifier-abcdefghijklmnop-42"
REFRESH = "EQAAl-secret-refresh-token-1b2c"


def everything_logged(caplog) -> str:
    rows = ApiCallLog.objects.values_list("url", "retry_reason", "budget_left", "request_id", "error")
    return "\n".join([caplog.text, *("|".join(map(str, row)) for row in rows)])


def assert_no_secrets(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"secret leaked: {secret[:6]}..."


@responses.activate
def test_oauth_token_calls_log_no_body_code_secret_or_verifier(caplog):
    caplog.set_level(logging.DEBUG)
    base = settings.SQUARE_BASE_URL
    # The provider echoes credentials in its error (some do): that text must be masked too.
    responses.post(f"{base}/oauth2/token", status=400, json={
        "error": "invalid_grant", "error_description": f"code {AUTH_CODE} is invalid for secret {CLIENT_SECRET}"})
    with pytest.raises(ProviderAuthError) as err:
        app_client("square", base, account_key="MLX1").post("/oauth2/token", json={
            "client_id": "sq0idp-app", "client_secret": CLIENT_SECRET, "code": AUTH_CODE,
            "code_verifier": VERIFIER, "grant_type": "authorization_code"})
    assert err.value.codes == ["invalid_grant"]
    assert_no_secrets(str(err.value), AUTH_CODE, CLIENT_SECRET)
    [row] = ApiCallLog.objects.all()
    assert row.connection is None and row.url == f"{base}/oauth2/token" and row.status_code == 400
    assert_no_secrets(everything_logged(caplog), CLIENT_SECRET, AUTH_CODE, VERIFIER)


@responses.activate
def test_revoke_with_client_auth_header_logs_no_secret(caplog):
    caplog.set_level(logging.DEBUG)
    base = settings.SQUARE_BASE_URL
    responses.post(f"{base}/oauth2/revoke", json={"success": True})
    app_client("square", base, account_key="MLX1").post(
        "/oauth2/revoke", json={"client_id": "sq0idp-app", "access_token": ACCESS_TOKEN},
        headers={"Authorization": f"Client {CLIENT_SECRET}"})
    assert responses.calls[0].request.headers["Authorization"] == f"Client {CLIENT_SECRET}"  # sent ...
    assert_no_secrets(everything_logged(caplog), CLIENT_SECRET, ACCESS_TOKEN)  # ... never written down


@responses.activate
def test_api_calls_log_no_bearer_token_even_when_echoed(make_connection, client_factory, caplog):
    caplog.set_level(logging.DEBUG)
    conn = make_connection()
    responses.get(f"{settings.SQUARE_BASE_URL}/v2/locations", status=403, json={"errors": [
        {"category": "AUTHENTICATION_ERROR", "code": "INSUFFICIENT_SCOPES",
         "detail": f"token {ACCESS_TOKEN} lacks MERCHANT_PROFILE_READ"}]})
    with pytest.raises(ProviderAuthError) as err:
        client_factory(conn).get("/v2/locations", params={"access_token": ACCESS_TOKEN, "limit": 5})
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    [row] = ApiCallLog.objects.filter(connection=conn)
    assert row.url.endswith("/v2/locations?access_token=[REDACTED]&limit=5")
    assert_no_secrets(everything_logged(caplog) + str(err.value), ACCESS_TOKEN)


@responses.activate
def test_shopify_callback_style_urls_are_redacted(make_connection, client_factory, caplog):
    caplog.set_level(logging.DEBUG)
    conn = make_connection("shopify")
    base = client_factory(conn).base_url
    responses.get(f"{base}/shop.json", json={}, headers={"X-Shopify-Shop-Api-Call-Limit": "1/40"})
    client_factory(conn).get("/shop.json", params={"code": AUTH_CODE, "hmac": "f00dcafe" * 8,
                                                   "state": "nonce-state-123456", "shop": conn.external_account_id})
    text = everything_logged(caplog)
    assert_no_secrets(text, AUTH_CODE, "f00dcafe" * 8, "nonce-state-123456", ACCESS_TOKEN)
    assert conn.external_account_id in text  # the rest of the URL stays readable for staff


def test_redact_url_and_text_units():
    assert redact_url("https://u:p@h.example/x?code=abc&page=2&client_secret=s3&x-api-key=k") == (
        "https://[REDACTED]@h.example/x?code=[REDACTED]&page=2&client_secret=[REDACTED]&x-api-key=[REDACTED]")
    assert redact_url("https://h/x?country_code=US") == "https://h/x?country_code=US"
    text = redact_text('Authorization: Bearer abcdef123456 {"refresh_token": "r-123456", "n": 1}')
    assert "abcdef123456" not in text and "r-123456" not in text and '"n": 1' in text


@responses.activate
def test_error_row_records_the_parsed_error_without_the_body(make_connection, client_factory):
    conn = make_connection("netsuite")
    base = client_factory(conn).base_url
    responses.post(f"{base}/services/rest/query/v1/suiteql", status=400, json={
        "title": "Bad Request", "status": 400,
        "o:errorDetails": [{"detail": "Invalid search query.", "o:errorCode": "INVALID_PARAMETER"}]})
    with pytest.raises(ProviderError) as err:
        client_factory(conn).post("/services/rest/query/v1/suiteql", json={"q": "SELEC nonsense"})
    assert err.value.codes == ["INVALID_PARAMETER"] and err.value.status == 400
    [row] = ApiCallLog.objects.filter(connection=conn)
    assert "INVALID_PARAMETER" in row.error and "SELEC nonsense" not in row.error
