"""In chromium: repeated wrong passwords lock the account with a readable page and staff lift the lock in admin;
in production mode a staff user without a second factor cannot reach the admin, enrols TOTP (the code computed
from the secret the page shows, with django-otp's TOTP) and gets in."""

import re
import time
from base64 import b32decode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import TOTP

from audit.models import AuditEntry
from inventory.models import MerchantUser, Retailer
from tests.browser import save_screenshot

pytestmark = pytest.mark.browser


def login(page, url, username, password):
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit], input[type=submit]")


def signed_in_context(browser, live_server, user):
    """A browser context holding a session of ``user`` (staff are already signed in when they lift a lock: the
    locked address is the test machine's too)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    return context


def test_wrong_passwords_lock_the_account_and_staff_unlock_it(page, browser, live_server, transactional_db,
                                                               settings):
    settings.AXES_FAILURE_LIMIT = 3
    retailer = Retailer.objects.create(name="Acme Retail", slug="acme")
    merchant = get_user_model().objects.create_user("acme-merchant", password="pw-acme-merchant-1")
    MerchantUser.objects.create(user=merchant, retailer=retailer)
    staff = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")

    for _ in range(2):
        login(page, f"{live_server.url}/accounts/login/", "acme-merchant", "not-my-password")
        assert "didn't match" in page.content()
    login(page, f"{live_server.url}/accounts/login/", "acme-merchant", "not-my-password")
    page.wait_for_selector("p.lockout")
    assert "Sign-in temporarily locked" in page.inner_text("h1")
    save_screenshot(page, "lockout")
    login(page, f"{live_server.url}/accounts/login/", "acme-merchant", "pw-acme-merchant-1")
    assert "Sign-in temporarily locked" in page.content(), "even the right password waits out the lock"

    staff_page = signed_in_context(browser, live_server, staff).new_page()
    staff_page.goto(f"{live_server.url}/admin/axes/accessattempt/")
    assert "Locked Out" in staff_page.content() and "acme-merchant" in staff_page.content()
    staff_page.check("#action-toggle")
    staff_page.select_option("select[name=action]", "lift_lockouts")
    staff_page.click("button[name=index]")
    staff_page.wait_for_selector("ul.messagelist")
    assert "Lifted 1 lockout" in staff_page.content()
    staff_page.context.close()

    login(page, f"{live_server.url}/accounts/login/", "acme-merchant", "pw-acme-merchant-1")
    page.wait_for_url(re.compile(r".*/portal/$"))
    assert "Connections" in page.inner_text("h1")
    assert AuditEntry.objects.filter(action="login.unlock", actor_label="ops").count() == 1
    assert AuditEntry.objects.filter(action="login.lockout").exists()


def test_staff_without_a_second_factor_enrols_totp_before_reaching_the_admin(page, live_server, transactional_db,
                                                                             settings):
    settings.SHELFOPS_ENV = "production"
    get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")

    login(page, f"{live_server.url}/admin/login/?next=/admin/", "ops", "ops-password-123")
    page.wait_for_selector("#totp-secret")
    assert "/accounts/two-factor/" in page.url
    page.goto(f"{live_server.url}/admin/integrations/connection/")
    assert "/accounts/two-factor/" in page.url and "Site administration" not in page.content()

    save_screenshot(page, "two-factor-enrol")
    secret = page.inner_text("#totp-secret").strip()
    totp = TOTP(b32decode(secret))
    totp.time = time.time()
    page.fill("input[name=token]", f"{totp.token():06d}")
    page.click("form.card button[type=submit]")  # not the top bar's "Log out"
    page.wait_for_selector("ul.recovery-codes")
    assert len(page.query_selector_all("ul.recovery-codes li")) == 10
    page.goto(f"{live_server.url}/admin/integrations/connection/")
    page.wait_for_selector("#site-name")
    assert "/admin/integrations/connection/" in page.url
