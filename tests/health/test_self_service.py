"""Merchant self-service: API tokens (create with a name, key shown once, revoke), the API docs link, password
change and reset by e-mail (Django's auth views)."""

import re

import pytest
from django.core import mail

from inventory.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, merchant_user):
    client.force_login(merchant_user)
    return client


def test_a_token_is_created_with_a_name_shown_once_and_works_until_revoked(client_in, retailer, connection):
    page = client_in.post("/portal/account/", {"name": "forecasting"}).content.decode()
    key = re.search(r'id="new-token-key">([^<]+)<', page).group(1)
    token = ApiToken.objects.get(retailer=retailer, name="forecasting")
    assert not token.is_staff_token and token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash
    assert 'href="/api/docs/"' in page
    again = client_in.get("/portal/account/").content.decode()
    assert key not in again and f"{token.prefix}…" in again  # never shown again

    api = client_in.__class__()
    assert api.get("/api/v1/connections/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    client_in.post(f"/portal/account/tokens/{token.pk}/revoke/")
    assert api.get("/api/v1/connections/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_a_blank_name_is_refused_with_a_reason(client_in):
    response = client_in.post("/portal/account/", {"name": "  "})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_another_retailers_token_cannot_be_revoked(client, other_merchant_user, retailer):
    token, _key = ApiToken.issue(retailer, name="theirs")
    client.force_login(other_merchant_user)
    assert client.post(f"/portal/account/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_password_change(client_in, merchant_user):
    response = client_in.post("/accounts/password/change/", {
        "old_password": "pw-acme-merchant-1", "new_password1": "a-New-pass-2026!", "new_password2": "a-New-pass-2026!"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/done/"
    merchant_user.refresh_from_db()
    assert merchant_user.check_password("a-New-pass-2026!")


def test_password_reset_by_email(client, merchant_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    merchant_user.email = "owner@acme.test"
    merchant_user.save()
    assert "Forgot your password?" in client.get("/accounts/login/").content.decode()
    client.post("/accounts/password-reset/", {"email": "owner@acme.test"})
    (message,) = mail.outbox
    link = re.search(r"(/accounts/password-reset/[^/\s]+/[^/\s]+/)", message.body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session-bound "set-password" URL
    done = client.post(form_url, {"new_password1": "Reset-pass-2026!", "new_password2": "Reset-pass-2026!"})
    assert done.status_code == 302
    merchant_user.refresh_from_db()
    assert merchant_user.check_password("Reset-pass-2026!")
