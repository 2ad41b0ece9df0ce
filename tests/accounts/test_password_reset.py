"""Password reset sits behind the login guard: a locked address gets the lockout page, each address may ask for
a few reset e-mails an hour, and a completed reset ends the user's existing sessions."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_reset_mail_is_sent_and_the_address_is_limited(merchant_user, settings, mailoutbox):
    merchant_user.email = "buyer@acme.example"
    merchant_user.save()
    settings.PASSWORD_RESET_LIMIT = 2
    client = Client()
    for _ in range(2):
        assert client.post("/accounts/password-reset/", {"email": "buyer@acme.example"},
                           REMOTE_ADDR="192.0.2.10").status_code == 302
    assert len(mailoutbox) == 2
    refused = client.post("/accounts/password-reset/", {"email": "buyer@acme.example"}, REMOTE_ADDR="192.0.2.10")
    assert refused.status_code == 429 and "Sign-in temporarily locked" in refused.content.decode()
    assert len(mailoutbox) == 2
    assert AuditEntry.objects.filter(action="password_reset.throttled", ip_address="192.0.2.10").count() == 1
    assert client.post("/accounts/password-reset/", {"email": "buyer@acme.example"},
                       REMOTE_ADDR="192.0.2.11").status_code == 302, "another address is not affected"


def test_a_locked_address_cannot_use_password_reset(merchant_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    for name in ("a", "b"):
        client.post("/accounts/login/", {"username": name, "password": "x"}, REMOTE_ADDR="192.0.2.20")
    assert client.get("/accounts/password-reset/", REMOTE_ADDR="192.0.2.20").status_code == 429


def test_a_completed_reset_ends_existing_sessions(merchant_user, mailoutbox):
    merchant_user.email = "buyer@acme.example"
    merchant_user.save()
    logged_in = Client()
    logged_in.force_login(merchant_user)
    assert logged_in.get("/portal/").status_code == 200
    client = Client()
    client.post("/accounts/password-reset/", {"email": "buyer@acme.example"})
    link = re.search(r"/accounts/password-reset/[^/\s]+/[^/\s]+/", mailoutbox[0].body).group(0)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    done = client.post(form_url, {"new_password1": "a-brand-new-passphrase-7",
                                  "new_password2": "a-brand-new-passphrase-7"})
    assert done.status_code == 302
    assert logged_in.get("/portal/").status_code == 302, "the old session is logged out"
    assert Client().post("/accounts/login/", {"username": "acme-merchant",
                                              "password": "a-brand-new-passphrase-7"}).status_code == 302
