"""The pooled session is shared by every tenant's connections in a process: a cookie a provider sets on one
tenant's answer is never sent on another tenant's call, nor on the same connection's next call."""

from __future__ import annotations

import pytest
import requests
import responses
from django.conf import settings

from integrations.http import app_client

pytestmark = pytest.mark.django_db

STICKY = "lb-affinity=acme-7f3a; Path=/; Domain={host}"


def square_url(path: str) -> str:
    return f"{settings.SQUARE_BASE_URL}{path}"


def set_cookie_header() -> dict[str, str]:
    host = requests.utils.urlparse(settings.SQUARE_BASE_URL).hostname
    return {"Set-Cookie": STICKY.format(host=host)}


def sent_cookies() -> list[str | None]:
    return [call.request.headers.get("Cookie") for call in responses.calls]


@responses.activate
def test_the_mocked_answer_really_sets_a_cookie_a_plain_session_would_replay():
    """The control: without the client's policy, requests would send the cookie back on the next call."""
    responses.get(square_url("/v2/locations"), json={}, headers=set_cookie_header())
    session = requests.Session()
    session.get(square_url("/v2/locations"))
    session.get(square_url("/v2/locations"))
    assert sent_cookies() == [None, "lb-affinity=acme-7f3a"]


@responses.activate
def test_a_cookie_from_one_tenants_answer_is_never_sent_on_another_tenants_call(
        make_connection, client_factory, retailer, other_retailer):
    acme = make_connection(retailer=retailer)
    rival = make_connection(retailer=other_retailer)
    responses.get(square_url("/v2/locations"), json={"locations": []}, headers=set_cookie_header())

    acme_client = client_factory(acme)
    rival_client = client_factory(rival)
    assert acme_client.session is rival_client.session  # one pooled session per process: the risk is real

    acme_client.get("/v2/locations")
    rival_client.get("/v2/locations")
    acme_client.get("/v2/locations")

    assert sent_cookies() == [None, None, None]
    assert len(acme_client.session.cookies) == 0
    assert [call.request.headers["Authorization"] for call in responses.calls] == [
        f"Bearer {acme.access_token}", f"Bearer {rival.access_token}", f"Bearer {acme.access_token}"]


@responses.activate
def test_app_calls_without_a_connection_keep_no_cookies_either(make_connection, client_factory):
    """OAuth token exchanges (no connection yet) share the session too."""
    responses.post(square_url("/oauth2/token"), json={"access_token": "x"}, headers=set_cookie_header())
    responses.get(square_url("/v2/locations"), json={"locations": []})
    app_client("square", settings.SQUARE_BASE_URL).post("/oauth2/token", json={"code": "c"}, retries=1)
    client_factory(make_connection()).get("/v2/locations")
    assert sent_cookies() == [None, None]
