"""Every row of the retry matrix (README, integrations/http/client.py), against `responses`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses
from django.conf import settings
from django.utils import timezone

from integrations.http import auth
from integrations.http.errors import (
    CircuitOpen,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from integrations.models import ApiCallLog

pytestmark = pytest.mark.django_db


def square_url(path: str) -> str:
    return f"{settings.SQUARE_BASE_URL}{path}"


def rows(connection):
    return list(ApiCallLog.objects.filter(connection=connection).order_by("id"))


@responses.activate
def test_success_is_one_attempt_and_one_log_row(make_connection, client_factory):
    conn = make_connection()
    responses.get(square_url("/v2/locations"), json={"locations": [{"id": "L1"}]},
                  headers={"x-request-id": "req-123"})
    response = client_factory(conn).get("/v2/locations")
    assert response.status_code == 200 and response.json()["locations"][0]["id"] == "L1"
    [row] = rows(conn)
    assert (row.method, row.status_code, row.attempt, row.retry_reason, row.request_id) == (
        "GET", 200, 1, "", "req-123")
    assert row.provider == "square" and row.external_account_id == f"square:{conn.external_account_id}"
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {conn.access_token}"
    assert responses.calls[0].request.headers["Square-Version"] == settings.SQUARE_API_VERSION


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@responses.activate
def test_5xx_is_retried_with_capped_jittered_backoff_then_unavailable(status, make_connection, client_factory,
                                                                      clock, settings):
    settings.HTTP_BREAKER_FAILURES = 100  # this test is about retries, not the breaker
    conn = make_connection()
    responses.get(square_url("/v2/locations"), status=status, json={"errors": [
        {"category": "API_ERROR", "code": "INTERNAL_SERVER_ERROR", "detail": "boom"}]})
    with pytest.raises(ProviderUnavailable) as err:
        client_factory(conn).get("/v2/locations")
    assert err.value.status == status and err.value.codes == ["INTERNAL_SERVER_ERROR"]
    assert len(responses.calls) == settings.HTTP_MAX_ATTEMPTS
    # Full jitter: each wait is within [0, min(cap, base * 2**n)].
    assert len(clock.sleeps) == settings.HTTP_MAX_ATTEMPTS - 1
    for n, wait in enumerate(clock.sleeps):
        assert 0 <= wait <= min(settings.HTTP_BACKOFF_MAX_SECONDS, settings.HTTP_BACKOFF_BASE_SECONDS * 2 ** n)
    logged = rows(conn)
    assert [r.attempt for r in logged] == [1, 2, 3, 4]
    assert [r.retry_reason for r in logged] == ["", f"HTTP {status} INTERNAL_SERVER_ERROR",
                                                f"HTTP {status} INTERNAL_SERVER_ERROR",
                                                f"HTTP {status} INTERNAL_SERVER_ERROR"]


@responses.activate
def test_503_then_success_returns_the_answer(make_connection, client_factory):
    conn = make_connection()
    responses.get(square_url("/v2/locations"), status=503)
    responses.get(square_url("/v2/locations"), json={"locations": []})
    assert client_factory(conn).get("/v2/locations").status_code == 200
    assert [(r.status_code, r.attempt) for r in rows(conn)] == [(503, 1), (200, 2)]


@pytest.mark.parametrize("exc", [requests.exceptions.ConnectTimeout("connect timed out"),
                                 requests.exceptions.ReadTimeout("read timed out"),
                                 requests.exceptions.ConnectionError("connection refused")])
@responses.activate
def test_timeouts_and_connection_errors_are_retried(exc, make_connection, client_factory, settings):
    settings.HTTP_BREAKER_FAILURES = 100
    conn = make_connection()
    responses.get(square_url("/v2/locations"), body=exc)
    responses.get(square_url("/v2/locations"), json={"locations": []})
    assert client_factory(conn).get("/v2/locations").status_code == 200
    first, second = rows(conn)
    assert first.status_code is None and first.error and second.status_code == 200
    assert second.retry_reason.startswith("ProviderUnavailable")


@responses.activate
def test_timeouts_until_exhausted_raise_unavailable(make_connection, client_factory, settings):
    settings.HTTP_BREAKER_FAILURES = 100
    conn = make_connection()
    responses.get(square_url("/v2/locations"), body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(ProviderUnavailable) as err:
        client_factory(conn).get("/v2/locations")
    assert err.value.detail == "timeout" and len(responses.calls) == settings.HTTP_MAX_ATTEMPTS


@pytest.mark.parametrize("status,code", [(400, "INVALID_VALUE"), (403, "FORBIDDEN_BY_POLICY"), (404, "NOT_FOUND"),
                                         (409, "CONFLICT"), (422, "UNPROCESSABLE")])
@responses.activate
def test_other_4xx_are_never_retried(status, code, make_connection, client_factory, clock):
    conn = make_connection()
    responses.post(square_url("/v2/orders/search"), status=status, json={"errors": [
        {"category": "INVALID_REQUEST_ERROR", "code": code, "detail": "bad field", "field": "limit"}]})
    with pytest.raises(ProviderError) as err:
        client_factory(conn).post("/v2/orders/search", json={"limit": 5000})
    assert type(err.value) is ProviderError
    assert (err.value.status, err.value.codes) == (status, [code])
    assert "bad field (field limit)" in err.value.detail
    assert len(responses.calls) == 1 and clock.sleeps == []


@responses.activate
def test_429_retry_after_seconds_is_honoured_exactly(make_connection, client_factory, clock):
    conn = make_connection()
    responses.get(square_url("/v2/locations"), status=429, headers={"Retry-After": "7"},
                  json={"errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED"}]})
    responses.get(square_url("/v2/locations"), json={"locations": []})
    assert client_factory(conn).get("/v2/locations").status_code == 200
    assert clock.sleeps[0] == 7.0  # the header, not the jittered backoff
    assert rows(conn)[1].retry_reason == "HTTP 429 RATE_LIMITED"


@responses.activate
def test_429_retry_after_http_date_is_honoured(make_connection, client_factory, clock):
    conn = make_connection()
    when = format_datetime(datetime.fromtimestamp(clock.now + 12, tz=UTC), usegmt=True)
    responses.get(square_url("/v2/locations"), status=429, headers={"Retry-After": when})
    responses.get(square_url("/v2/locations"), json={"locations": []})
    client_factory(conn).get("/v2/locations")
    assert clock.sleeps[0] == pytest.approx(12.0)


@responses.activate
def test_square_429_without_retry_after_backs_off_and_slows_the_whole_account(make_connection, client_factory,
                                                                             clock):
    conn = make_connection()
    responses.get(square_url("/v2/locations"), status=429,
                  json={"errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED"}]})
    responses.get(square_url("/v2/locations"), json={"locations": []})
    client = client_factory(conn)
    client.get("/v2/locations")
    assert 0 <= clock.sleeps[0] <= 0.5  # first jittered backoff step
    # Another client of the same account (another worker) is now paced, not free-running.
    other = client_factory(conn)
    state = other.store.bucket_state(other._limiters["rest"].key)
    assert state["rate"] == pytest.approx(conn_policy_rate(conn) / 2) and state["slow_until"] > clock.now


def conn_policy_rate(conn):
    from integrations.providers.registry import get_provider

    return get_provider(conn.provider).rate_policy.rate


@responses.activate
def test_retry_after_beyond_the_maximum_is_returned_to_the_caller(make_connection, client_factory, clock, settings):
    settings.HTTP_MAX_RETRY_AFTER_SECONDS = 60
    conn = make_connection()
    responses.get(square_url("/v2/locations"), status=429, headers={"Retry-After": "3600"})
    with pytest.raises(ProviderRateLimited) as err:
        client_factory(conn).get("/v2/locations")
    assert err.value.retry_after == 3600 and len(responses.calls) == 1 and clock.sleeps == []


@responses.activate
def test_401_forces_one_refresh_and_retries_once(make_connection, client_factory, monkeypatch):
    conn = make_connection()
    calls = []

    def fake_refresh(connection, force=False):
        calls.append(force)
        return "EAAAl-brand-new-token-4411"

    monkeypatch.setattr(auth, "fresh_access_token", fake_refresh)
    responses.get(square_url("/v2/locations"), status=401,
                  json={"errors": [{"category": "AUTHENTICATION_ERROR", "code": "ACCESS_TOKEN_EXPIRED"}]})
    responses.get(square_url("/v2/locations"), json={"locations": []})
    assert client_factory(conn).get("/v2/locations").status_code == 200
    assert calls == [True]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer EAAAl-brand-new-token-4411"


@responses.activate
def test_the_retry_after_a_forced_refresh_does_not_use_up_attempts(make_connection, client_factory, monkeypatch,
                                                                   settings):
    settings.HTTP_MAX_ATTEMPTS = 1  # no retries of provider failures at all...
    conn = make_connection()
    monkeypatch.setattr(auth, "fresh_access_token", lambda c, force=False: "EAAAl-after-refresh-7781")
    responses.get(square_url("/v2/locations"), status=401,
                  json={"errors": [{"category": "AUTHENTICATION_ERROR", "code": "ACCESS_TOKEN_EXPIRED"}]})
    responses.get(square_url("/v2/locations"), json={"locations": []})
    assert client_factory(conn).get("/v2/locations").status_code == 200  # ...yet a 401 still gets its one retry
    assert len(responses.calls) == 2


@responses.activate
def test_401_after_the_forced_refresh_raises_auth_error(make_connection, client_factory, monkeypatch):
    conn = make_connection()
    calls = []
    monkeypatch.setattr(auth, "fresh_access_token", lambda c, force=False: calls.append(force) or "tok-still-bad")
    responses.get(square_url("/v2/locations"), status=401,
                  json={"errors": [{"category": "AUTHENTICATION_ERROR", "code": "ACCESS_TOKEN_REVOKED"}]})
    with pytest.raises(ProviderAuthError) as err:
        client_factory(conn).get("/v2/locations")
    assert err.value.codes == ["ACCESS_TOKEN_REVOKED"] and calls == [True] and len(responses.calls) == 2


@responses.activate
def test_token_about_to_expire_is_refreshed_before_the_call(make_connection, client_factory, monkeypatch):
    conn = make_connection(token_expires_at=timezone.now() + timedelta(seconds=60))
    calls = []
    monkeypatch.setattr(auth, "fresh_access_token", lambda c, force=False: calls.append(force) or "tok-fresh-9981")
    responses.get(square_url("/v2/locations"), json={"locations": []})
    client_factory(conn).get("/v2/locations")
    assert calls == [False]
    assert responses.calls[0].request.headers["Authorization"] == "Bearer tok-fresh-9981"


@responses.activate
def test_valid_token_is_used_without_asking_the_token_service(make_connection, client_factory, monkeypatch):
    conn = make_connection()
    monkeypatch.setattr(auth, "fresh_access_token", lambda *a, **k: pytest.fail("refresh not expected"))
    responses.get(square_url("/v2/locations"), json={"locations": []})
    client_factory(conn).get("/v2/locations")


@responses.activate
def test_graphql_throttled_waits_for_the_missing_cost_then_succeeds(make_connection, client_factory, clock):
    conn = make_connection("shopify")
    url = f"{settings.SHOPIFY_BASE_URL_TEMPLATE.format(shop=conn.external_account_id)}/admin/api/" \
          f"{settings.SHOPIFY_API_VERSION}/graphql.json"
    throttle = {"maximumAvailable": 1000.0, "currentlyAvailable": 12.0, "restoreRate": 50.0}
    responses.post(url, json={"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                              "extensions": {"cost": {"requestedQueryCost": 112, "actualQueryCost": None,
                                                      "throttleStatus": throttle}}})
    responses.post(url, json={"data": {"shop": {"name": "Demo"}},
                              "extensions": {"cost": {"requestedQueryCost": 112, "actualQueryCost": 40,
                                                      "throttleStatus": {**throttle, "currentlyAvailable": 960}}}})
    data = client_factory(conn).graphql("{ shop { name } }")
    assert data == {"shop": {"name": "Demo"}}
    assert clock.sleeps[0] == pytest.approx((112 - 12) / 50.0)  # budget data overrides the backoff
    assert responses.calls[0].request.headers["X-Shopify-Access-Token"] == conn.access_token


@responses.activate
def test_graphql_other_errors_raise_with_codes_and_are_not_retried(make_connection, client_factory):
    conn = make_connection("shopify")
    url = f"{settings.SHOPIFY_BASE_URL_TEMPLATE.format(shop=conn.external_account_id)}/admin/api/" \
          f"{settings.SHOPIFY_API_VERSION}/graphql.json"
    responses.post(url, json={"errors": [{"message": "Field 'nope' doesn't exist",
                                          "extensions": {"code": "undefinedField"}}]})
    with pytest.raises(ProviderError) as err:
        client_factory(conn).graphql("{ nope }")
    assert err.value.codes == ["undefinedField"] and len(responses.calls) == 1


@responses.activate
def test_shopify_rest_429_without_retry_after_waits_from_the_call_limit_header(make_connection, client_factory,
                                                                               clock):
    conn = make_connection("shopify")
    url = f"{settings.SHOPIFY_BASE_URL_TEMPLATE.format(shop=conn.external_account_id)}/admin/api/" \
          f"{settings.SHOPIFY_API_VERSION}/shop.json"
    responses.get(url, status=429, headers={"X-Shopify-Shop-Api-Call-Limit": "40/40"},
                  json={"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume."})
    responses.get(url, json={"shop": {}}, headers={"X-Shopify-Shop-Api-Call-Limit": "39/40"})
    client_factory(conn).get("/shop.json")
    assert clock.sleeps[0] == pytest.approx(1 / 2.0)  # one request must leak at 2/s


@responses.activate
def test_netsuite_pool_full_is_retried_like_a_429(make_connection, client_factory):
    conn = make_connection("netsuite")
    base = client_factory(conn).base_url
    body = {"type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "title": "Bad Request",
            "status": 400, "o:errorDetails": [{"detail": "Concurrent request limit exceeded",
                                               "o:errorCode": "SSS_REQUEST_LIMIT_EXCEEDED"}]}
    responses.post(f"{base}/services/rest/query/v1/suiteql", status=400, json=body)
    responses.post(f"{base}/services/rest/query/v1/suiteql", json={"items": [], "hasMore": False})
    response = client_factory(conn).post("/services/rest/query/v1/suiteql", json={"q": "SELECT id FROM item"})
    assert response.status_code == 200 and len(responses.calls) == 2


@responses.activate
def test_open_circuit_is_not_retried(make_connection, client_factory, settings):
    settings.HTTP_BREAKER_FAILURES = 2
    conn = make_connection()
    responses.get(square_url("/v2/locations"), status=500)
    with pytest.raises(CircuitOpen):
        client_factory(conn).get("/v2/locations")
    assert len(responses.calls) == 2  # the third attempt met the open breaker and sent nothing
