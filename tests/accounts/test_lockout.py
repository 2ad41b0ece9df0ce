"""Login throttling (django-axes): repeated wrong passwords lock the account (whatever the address) and the
address (whatever the account), with a readable page; staff lift the lock in admin; everything is in the trail."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def attempt(client, username, password, path="/accounts/login/", ip="198.51.100.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_the_account_locks_after_the_limit_with_a_readable_page_even_for_the_right_password(merchant_user):
    client = Client()
    for _ in range(2):
        assert attempt(client, "acme-merchant", "wrong").status_code == 200  # the form again, with an error
    locked = attempt(client, "acme-merchant", "wrong")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Sign-in temporarily locked" in text and "Traceback" not in text
    # The right password from another address does not get in: the account itself is locked.
    assert attempt(Client(), "acme-merchant", "pw-acme-merchant-1", ip="203.0.113.5").status_code == 429
    failures = AuditEntry.objects.filter(action="login.failure", retailer=merchant_user.merchant.retailer)
    assert failures.count() >= 3 and not failures.exclude(outcome="failure").exists()
    assert AuditEntry.objects.filter(action="login.lockout", outcome="denied").exists()
    assert "pw-acme" not in str(list(AuditEntry.objects.values_list("details", flat=True)))


def test_an_address_guessing_many_accounts_is_locked(merchant_user, db):
    client = Client()
    for name in ("alice", "bob", "carol"):
        attempt(client, name, "guess", ip="192.0.2.66")
    assert attempt(client, "acme-merchant", "pw-acme-merchant-1", ip="192.0.2.66").status_code == 429
    assert attempt(Client(), "acme-merchant", "pw-acme-merchant-1", ip="192.0.2.67").status_code == 302


def test_admin_login_is_throttled_too(db):
    get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    client = Client()
    for _ in range(3):
        response = attempt(client, "ops", "nope", path="/admin/login/")
    assert response.status_code == 429 and "Sign-in temporarily locked" in response.content.decode()


def test_staff_lift_a_lockout_in_admin_and_it_is_recorded(merchant_user, settings):
    for _ in range(3):
        attempt(Client(), "acme-merchant", "wrong")
    assert attempt(Client(), "acme-merchant", "pw-acme-merchant-1").status_code == 429
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123"))
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "Locked Out" in staff.get(changelist).content.decode()
    locked = list(AccessAttempt.objects.filter(username="acme-merchant").values_list("pk", flat=True))
    staff.post(changelist, {"action": "lift_lockouts", "_selected_action": locked}, follow=True)
    assert not AccessAttempt.objects.filter(username="acme-merchant").exists()
    lifted = AuditEntry.objects.get(action="login.unlock")
    assert (lifted.actor_label, lifted.details["username"]) == ("ops", "acme-merchant")
    assert attempt(Client(), "acme-merchant", "pw-acme-merchant-1").status_code == 302
    success = AuditEntry.objects.filter(action="login.success", actor_user=merchant_user).last()
    assert success.retailer == merchant_user.merchant.retailer and success.ip_address == "198.51.100.1"


def test_behind_the_proxy_the_forwarded_address_is_throttled_not_the_proxy(merchant_user, other_merchant_user,
                                                                         settings):
    settings.SHELFOPS_ENV = "production"
    proxy = "10.0.0.2"
    for name in ("x1", "x2", "x3"):
        Client().post("/accounts/login/", {"username": name, "password": "p"}, REMOTE_ADDR=proxy,
                      HTTP_X_FORWARDED_FOR="192.0.2.66")
    # Another client behind the same proxy is not locked out by the first one's guesses.
    ok = Client().post("/accounts/login/", {"username": "rival-merchant", "password": "pw-rival-merchant-1"},
                       REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.20")
    assert ok.status_code in (301, 302)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.66"}
