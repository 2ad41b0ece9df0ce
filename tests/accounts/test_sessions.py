"""Session hygiene and CSRF: sessions end after inactivity, get a new key at login, end elsewhere when the
password changes; the portal's and admin's state-changing forms refuse a request without the CSRF token."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from tests.oauth.conftest import make_connection

pytestmark = pytest.mark.django_db


def test_sessions_expire_after_inactivity_and_each_request_pushes_the_expiry():
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 0 < django_settings.SESSION_COOKIE_AGE <= 12 * 3600


def test_activity_renews_the_expiry(merchant_user):
    client = Client()
    client.post("/accounts/login/", {"username": "acme-merchant", "password": "pw-acme-merchant-1"})
    key = client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date="2000-01-01T00:00:00Z")
    # An expired session is not a login any more.
    assert client.get("/portal/").status_code == 302
    client.post("/accounts/login/", {"username": "acme-merchant", "password": "pw-acme-merchant-1"})
    key = client.cookies["sessionid"].value
    before = Session.objects.get(session_key=key).expire_date
    assert client.get("/portal/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date >= before


def test_login_gives_a_new_session_key(merchant_user):
    client = Client()
    client.get("/accounts/login/")
    client.session["marker"] = "pre-login"  # a session exists before login (e.g. planted by an attacker)
    session = client.session
    session["marker"] = "x"
    session.save()
    before = session.session_key
    client.post("/accounts/login/", {"username": "acme-merchant", "password": "pw-acme-merchant-1"})
    assert client.cookies["sessionid"].value != before
    assert not Session.objects.filter(session_key=before).exists()


def test_a_password_change_ends_the_users_other_sessions(db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    assert elsewhere.get("/admin/").status_code == 200
    changed = here.post("/admin/password_change/", {"old_password": "ops-password-123",
                                                    "new_password1": "a-new-long-passphrase-9",
                                                    "new_password2": "a-new-long-passphrase-9"})
    assert changed.status_code == 302
    assert here.get("/admin/").status_code == 200, "the session that changed it stays"
    assert elsewhere.get("/admin/").status_code == 302, "every other session is logged out"


def test_portal_and_admin_state_changes_need_the_csrf_token(merchant_user, retailer):
    connection = make_connection(retailer, account="CSRF-1")
    merchant = Client(enforce_csrf_checks=True)
    merchant.force_login(merchant_user)
    assert merchant.post(f"/portal/connections/{connection.pk}/disconnect/").status_code == 403
    connection.refresh_from_db()
    assert connection.status == "active"

    staff = Client(enforce_csrf_checks=True)
    staff.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123"))
    refused = staff.post("/admin/integrations/connection/",
                         {"action": "disconnect_connections", "_selected_action": [connection.pk]})
    assert refused.status_code == 403
    assert Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "acme-merchant", "password": "pw-acme-merchant-1"}).status_code == 403
    connection.refresh_from_db()
    assert connection.status == "active"
