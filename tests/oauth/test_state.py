"""OAuth state: random, single-use, 10-minute, bound to the browser session; PKCE S256 where supported."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import Connection, OAuthSession
from integrations.oauth.state import s256_challenge

from .conftest import query_of, rfc7636_s256

pytestmark = pytest.mark.django_db


def start_square(client) -> dict:
    response = client.get("/integrations/square/connect/")
    assert response.status_code == 302
    return query_of(response["Location"])


def test_rfc7636_s256_vector():
    # RFC 7636 appendix B
    verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert s256_challenge(verifier) == rfc7636_s256(verifier) == challenge


def test_connect_redirects_with_random_state_and_pkce(merchant_client, merchant_user, retailer):
    first = merchant_client.get("/integrations/square/connect/")
    assert first["Location"].startswith("https://square.example.test/oauth2/authorize?")
    params = query_of(first["Location"])
    assert params["client_id"] and params["redirect_uri"] == "https://portal.example.test/integrations/square/callback/"
    assert params["code_challenge_method"] == "S256"
    session = OAuthSession.objects.get(state=params["state"])
    assert (session.retailer, session.user, session.provider) == (retailer, merchant_user, "square")
    assert rfc7636_s256(session.code_verifier) == params["code_challenge"]
    # RFC 7636 4.1: 43-128 characters of the unreserved set
    assert 43 <= len(session.code_verifier) <= 128
    assert set(session.code_verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    assert params["code_challenge"] != session.code_verifier
    assert timedelta(minutes=9) < session.expires_at - timezone.now() <= timedelta(minutes=10)
    second = query_of(merchant_client.get("/integrations/square/connect/")["Location"])
    assert second["state"] != params["state"] and len(params["state"]) >= 22
    assert params["state"] not in (str(retailer.pk), retailer.slug, str(merchant_user.pk))


def test_connect_requires_login():
    response = Client().get("/integrations/square/connect/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not OAuthSession.objects.exists()


def test_unknown_provider_is_404(merchant_client):
    assert merchant_client.get("/integrations/nope/connect/").status_code == 404


@pytest.mark.parametrize("state", ["", "forged-state-value-1234567890", "1"])
def test_forged_or_missing_state_is_refused(merchant_client, state, caplog):
    start_square(merchant_client)
    response = merchant_client.get("/integrations/square/callback/", {"code": "sq0cgp-x", "state": state})
    assert response.status_code == 400
    assert "Could not connect Square" in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert not Connection.objects.exists()
    assert any("refused square callback" in r.getMessage() for r in caplog.records)


def test_expired_state_is_refused(merchant_client):
    params = start_square(merchant_client)
    OAuthSession.objects.filter(state=params["state"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = merchant_client.get("/integrations/square/callback/", {"code": "sq0cgp-x", "state": params["state"]})
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert OAuthSession.objects.get(state=params["state"]).outcome == "state_expired"


def test_state_is_single_use(merchant_client):
    params = start_square(merchant_client)
    # The first use (here a denial) consumes the state; a replay of any callback with it is refused.
    denied = merchant_client.get("/integrations/square/callback/", {"error": "access_denied", "state": params["state"]})
    assert denied.status_code == 400
    replay = merchant_client.get("/integrations/square/callback/", {"code": "sq0cgp-x", "state": params["state"]})
    assert replay.status_code == 400
    assert "already used" in replay.content.decode()


def test_callback_in_another_browser_of_the_same_user_is_refused(merchant_client, merchant_user):
    params = start_square(merchant_client)
    other_browser = Client()
    other_browser.force_login(merchant_user)
    response = other_browser.get("/integrations/square/callback/", {"code": "sq0cgp-x", "state": params["state"]})
    assert response.status_code == 400
    assert "another browser" in response.content.decode()
    # ... and it did not burn the state for the browser that started it.
    assert OAuthSession.objects.get(state=params["state"]).used_at is None


def test_callback_by_another_login_is_refused(merchant_client, other_merchant_client):
    params = start_square(merchant_client)
    response = other_merchant_client.get("/integrations/square/callback/",
                                         {"code": "sq0cgp-x", "state": params["state"]})
    assert response.status_code == 400
    assert not Connection.objects.exists()


def test_callback_without_login_is_a_readable_page(merchant_client):
    params = start_square(merchant_client)
    response = Client().get("/integrations/square/callback/", {"code": "sq0cgp-x", "state": params["state"]})
    assert response.status_code == 400
    assert "login ended" in response.content.decode()


def test_denial_shows_error_page_and_creates_nothing(merchant_client, caplog):
    params = start_square(merchant_client)
    response = merchant_client.get("/integrations/square/callback/", {
        "error": "access_denied", "error_description": "user denied", "state": params["state"]})
    assert response.status_code == 400
    body = response.content.decode()
    assert "You declined access on Square" in body and "Back to your connections" in body
    assert not Connection.objects.exists()
    assert OAuthSession.objects.get(state=params["state"]).outcome == "denied"
    assert any("denied" in r.getMessage() for r in caplog.records)


def test_staff_without_retailer_gets_a_readable_refusal(db, django_user_model):
    staff = django_user_model.objects.create_user("staff-x", password="pw-staff-x-1", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.get("/integrations/square/connect/")
    assert response.status_code == 403
    assert "not linked to a retailer" in response.content.decode()


def test_prune_drops_old_sessions(merchant_client):
    from integrations.oauth.state import prune_sessions

    params = start_square(merchant_client)
    assert prune_sessions() == 0
    OAuthSession.objects.filter(state=params["state"]).update(expires_at=timezone.now() - timedelta(days=2))
    assert prune_sessions() == 1
