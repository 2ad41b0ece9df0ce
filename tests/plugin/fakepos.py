"""A provider that exists only in tests: its descriptor, settings module, receiver, flow and limiter kind, all
outside the portal's shared code. ``tests/plugin/test_fake_provider.py`` registers it and checks that the portal
routes, offers, configures and checks it with no change anywhere else."""

from __future__ import annotations

import hashlib
import hmac

from django import forms
from django.conf import settings
from django.core.checks import Warning

from integrations.http.limiters import Limiter, register_limiter
from integrations.oauth.base import OAuthFlow
from integrations.providers.base import ConnectField, Provider, RatePolicy
from integrations.webhooks.base import Envelope, HandlerResult, WebhookReceiver

KEY = "fakepos"


def declare(env, *, local: bool, sandbox_url: str) -> dict[str, object]:
    """The settings module's contract (``integrations/providers/<key>/settings.py``)."""
    environment = env.str("FAKEPOS_ENVIRONMENT", default="local")
    return {
        "FAKEPOS_ENVIRONMENT": environment,
        "FAKEPOS_CLIENT_ID": env.str("FAKEPOS_CLIENT_ID", default="fake-local-id" if environment == "local" else ""),
        "FAKEPOS_CLIENT_SECRET": env.str("FAKEPOS_CLIENT_SECRET",
                                         default="fake-local-secret" if environment == "local" else ""),
        "FAKEPOS_SCOPES": ["read"],
        "FAKEPOS_BASE_URL": f"{sandbox_url}/fakepos",
        "FAKEPOS_PORTAL_LOCAL": local,
    }


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeReceiver(WebhookReceiver):
    provider_key = KEY
    signature_header = "x-fake-signature"
    takes_subscription = True
    handlers = {"stock.changed": lambda context: HandlerResult(outcome="seen")}

    def secret(self, subscription: str | None) -> str:
        # One secret per subscription, as providers that sign per subscription do.
        return f"{settings.FAKEPOS_CLIENT_SECRET}:{subscription or 'app'}"

    def verify(self, raw_body, headers, *, subscription=None) -> bool:
        return hmac.compare_digest(signature(self.secret(subscription), raw_body), self.given_signature(headers))

    def envelope(self, raw_body, payload, headers, *, subscription=None) -> Envelope:
        payload = payload if isinstance(payload, dict) else {}
        return Envelope(event_id=str(payload.get("id", "")), topic=str(payload.get("type", "")),
                        account_id=f"{payload.get('store', '')}@{subscription or '-'}")


class FakeFlow(OAuthFlow):
    settings_prefix = "FAKEPOS"
    use_pkce = True

    def clean_connect_input(self, params) -> dict:
        return {"store": params.get("store", "").strip()}

    def account_hint(self, extra):
        return extra.get("store")

    def authorize_endpoint(self, extra) -> str:
        return "https://auth.fakepos.example/authorize"

    def authorize_params(self, session, code_challenge):
        return {**super().authorize_params(session, code_challenge), "store": session.extra["store"]}

    def token_base_url(self, account) -> str:
        return "https://auth.fakepos.example"

    def test_connection(self, connection) -> str:
        return "fake"


@register_limiter("fakepos_fixed")
class FixedCostLimiter(Limiter):
    def expected_cost(self, query: str) -> float:
        return 7.0


class FakeProvider(Provider):
    key = KEY
    name = "FakePOS"
    connect_fields = (ConnectField("store", "Store code", "e.g. ST-1"),)
    rate_policy = RatePolicy(kind="fakepos_fixed", rate=5.0, burst=10.0)
    sandbox_credentials = frozenset({"fake-local-id", "fake-local-secret"})
    receiver = FakeReceiver()

    def api_base_url(self, connection) -> str:
        return settings.FAKEPOS_BASE_URL

    def oauth(self):
        return FakeFlow(self)

    def webhooks(self):
        return self.receiver

    def system_checks(self, *, production: bool) -> list:
        return [Warning("FakePOS wants its own check", id="fakepos.W001")] if production else \
            [Warning("FakePOS local check", id="fakepos.W002")]

    def admin_form_fields(self) -> dict:
        return {"fake_store_pin": forms.CharField(required=False, label="Store PIN")}

    def clean_admin_form(self, form, cleaned: dict) -> dict:
        pin = cleaned.get("fake_store_pin") or ""
        if pin and not pin.isdigit():
            form.add_error("fake_store_pin", "Digits only.")
        return {"display_name": f"PIN {pin}"} if pin else {}
