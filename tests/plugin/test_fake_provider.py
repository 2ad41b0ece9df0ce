"""A provider registered only in this test gets its webhook route (with a subscription segment), its portal
connect card and OAuth redirect, its settings, its system checks, its admin form field and its limiter kind,
with no change to the portal's shared code."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from integrations.http import limiters
from integrations.models import WebhookEvent
from integrations.providers import all_providers, registry

from . import fakepos

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake(monkeypatch, settings):
    all_providers()  # the real ones first
    monkeypatch.setitem(registry._registry, fakepos.KEY, fakepos.FakeProvider())
    settings.FAKEPOS_CLIENT_ID, settings.FAKEPOS_CLIENT_SECRET = "fake-id", "fake-secret"
    settings.FAKEPOS_SCOPES, settings.FAKEPOS_ENVIRONMENT = ["read"], "production"
    settings.FAKEPOS_BASE_URL = "https://api.fakepos.example"
    return registry._registry[fakepos.KEY]


def post(path: str, body: bytes, sig: str):
    return Client().post(path, data=body, content_type="application/json", HTTP_X_FAKE_SIGNATURE=sig)


def test_its_webhooks_are_routed_with_and_without_a_subscription(fake):
    body = json.dumps({"id": "evt-1", "type": "stock.changed", "store": "ST-1"}).encode()
    assert post("/webhooks/fakepos/", body, fakepos.signature("fake-secret:app", body)).status_code == 200
    body2 = json.dumps({"id": "evt-2", "type": "stock.changed", "store": "ST-1"}).encode()
    answer = post("/webhooks/fakepos/sub-42/", body2, fakepos.signature("fake-secret:sub-42", body2))
    assert answer.status_code == 200, answer.content
    # The subscription reached verify (its own secret) and envelope (the account it names).
    assert dict(WebhookEvent.objects.filter(provider="fakepos").values_list("event_id", "external_account_id")) \
        == {"evt-1": "ST-1@-", "evt-2": "ST-1@sub-42"}
    wrong = post("/webhooks/fakepos/sub-42/", body2, fakepos.signature("fake-secret:app", body2))
    assert wrong.status_code == 401


def test_routes_follow_the_registry(fake, monkeypatch):
    body = b"{}"
    # A provider whose receiver takes no subscription has no such URL; a key without a receiver has none at all.
    plain = next(p.key for p in all_providers() if p.webhooks() is not None and not p.webhooks().takes_subscription)
    assert post(f"/webhooks/{plain}/sub-1/", body, "x").status_code == 404
    assert post("/webhooks/nosuchprovider/", body, "x").status_code == 404
    monkeypatch.delitem(registry._registry, fakepos.KEY)
    assert post("/webhooks/fakepos/", body, fakepos.signature("fake-secret:app", body)).status_code == 404


def test_its_connect_card_and_oauth_redirect(fake, merchant_user, settings):
    settings.BASE_URL = "https://portal.example.test"
    client = Client()
    client.force_login(merchant_user)
    page = client.get("/portal/").content.decode()
    assert 'id="connect-fakepos"' in page
    assert '<label>Store code <input name="store" placeholder="e.g. ST-1" required></label>' in page
    start = client.get("/integrations/fakepos/connect/", {"store": "ST-1"})
    assert start.status_code == 302
    url = urlsplit(start["Location"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://auth.fakepos.example/authorize"
    assert params["client_id"] == "fake-id" and params["store"] == "ST-1" and params["scope"] == "read"
    assert params["response_type"] == "code" and params["code_challenge_method"] == "S256"
    assert params["redirect_uri"] == "https://portal.example.test/integrations/fakepos/callback/"


def test_its_system_checks_and_production_rules(fake, settings):
    from shelfops import checks

    ids = {m.id for m in checks.check_provider_configuration(None)}
    assert "fakepos.W002" in ids  # its own hook, called by the generic checks
    settings.FAKEPOS_CLIENT_SECRET = ""
    errors = [m for m in checks.check_provider_configuration(None) if m.id == "shelfops.E001"]
    assert any("FakePOS" in e.msg and "FAKEPOS_CLIENT_SECRET" in e.msg for e in errors)
    settings.FAKEPOS_ENVIRONMENT = "local"
    assert "FAKEPOS_ENVIRONMENT" in {p.setting for p in checks.provider_problems()}
    settings.FAKEPOS_ENVIRONMENT, settings.FAKEPOS_CLIENT_SECRET = "production", "fake-local-secret"
    assert "FAKEPOS_CLIENT_SECRET" in {p.setting for p in checks.provider_problems()}


def test_its_settings_module_is_read_by_the_settings_loop(monkeypatch):
    """Run shelfops/settings.py afresh with the fake package in the registry's list: its names appear as
    top-level settings, read from the environment."""
    package = types.ModuleType("integrations.providers.fakepos")
    module = types.ModuleType("integrations.providers.fakepos.settings")
    module.declare = fakepos.declare
    monkeypatch.setitem(sys.modules, package.__name__, package)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(registry, "PROVIDER_PACKAGES", [*registry.PROVIDER_PACKAGES, "fakepos"])
    monkeypatch.setenv("FAKEPOS_CLIENT_ID", "from-the-environment")
    monkeypatch.setenv("FAKEPOS_ENVIRONMENT", "production")
    spec = importlib.util.spec_from_file_location("fresh_settings", ROOT / "shelfops" / "settings.py")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.FAKEPOS_CLIENT_ID == "from-the-environment" and fresh.FAKEPOS_CLIENT_SECRET == ""
    assert fresh.FAKEPOS_BASE_URL == f"{fresh.SANDBOX_URL}/fakepos"
    assert fresh.FAKEPOS_PORTAL_LOCAL is True  # SHELFOPS_ENV is local in tests
    assert fresh.SQUARE_CLIENT_ID is not None  # the real packages are still read


def test_its_admin_form_field_and_validation(fake, retailer):
    staff = get_user_model().objects.create_superuser("staff-fake", password="pw-staff-fake-1")
    client = Client()
    client.force_login(staff)
    assert "Store PIN" in client.get("/admin/integrations/connection/add/").content.decode()
    from integrations.admin.connection_form import connection_form

    values = {"retailer": retailer.pk, "provider": "fakepos", "external_account_id": "ST-1", "status": "active",
              "auth_mode": "authorization_code", "settings": "{}", "refresh_failures": 0}
    form_class = connection_form()
    bad = form_class(data={**values, "fake_store_pin": "12a"})
    assert "fake_store_pin" in bad.errors
    good = form_class(data={**values, "fake_store_pin": "1234"})
    assert good.is_valid(), good.errors
    assert good.save().display_name == "PIN 1234"


def test_its_limiter_kind_is_used_by_the_client(fake):
    from integrations.http.client import ProviderClient

    client = ProviderClient(fake, "https://api.fakepos.example", "fakepos:ST-1")
    limiter = client._limiters["graphql"]
    assert isinstance(limiter, fakepos.FixedCostLimiter) and limiter.expected_cost("{ q }") == 7.0
    assert limiters.limiter_class("fakepos_fixed") is fakepos.FixedCostLimiter
