"""Shopify OAuth for a non-embedded app (provider-facts 2.1): shop domain validated against a setting's pattern,
callback ``hmac`` (hex HMAC-SHA256 of the sorted query with the client secret) and ``timestamp`` checked before
the code is exchanged, expiring offline tokens (``expiring=1``: 60-minute access token, rotating 90-day refresh
token), webhook subscriptions registered through GraphQL after connecting."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from datetime import timedelta

from django.conf import settings

from integrations.oauth.base import OAuthFlow
from integrations.oauth.errors import OAuthFlowError

from .provider import shop_base_url
from .queries import APP_UNINSTALL, SHOP, WEBHOOK_CREATE

logger = logging.getLogger("integrations.oauth")

# A callback older than this (or this far in the future: clock skew) is refused. Shopify's Node library allows
# 90 s of skew; the state itself lives 10 minutes.
CALLBACK_MAX_AGE = 600
CALLBACK_MAX_SKEW = 90

# The topics the webhook area handles (GraphQL WebhookSubscriptionTopic enum names).
WEBHOOK_TOPICS = ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "REFUNDS_CREATE", "PRODUCTS_UPDATE",
                  "PRODUCTS_DELETE", "INVENTORY_LEVELS_UPDATE", "APP_UNINSTALLED"]


BAD_SHOP = OAuthFlowError(
    "bad_shop", "That is not a Shopify shop address ShelfOps can connect to.",
    advice="Enter your shop's myshopify.com address, like your-store.myshopify.com, and try again.")


def valid_shop(shop: str) -> bool:
    return bool(shop) and re.fullmatch(settings.SHOPIFY_SHOP_DOMAIN_PATTERN, shop) is not None


def clean_shop(raw: str) -> str:
    """Accept what merchants paste (``https://x.myshopify.com/``, ``X.myshopify.com``, or just ``x``) but
    nothing that is not, after that, a shop domain matching the pattern."""
    shop = (raw or "").strip().lower()
    shop = shop.removeprefix("https://").rstrip("/")
    if re.fullmatch(r"[a-z0-9][a-z0-9-]*", shop):
        shop = f"{shop}.myshopify.com"
    if not valid_shop(shop):
        raise BAD_SHOP
    return shop


def callback_hmac(params, secret: str) -> str:
    """Hex HMAC-SHA256 over ``k=v`` pairs sorted by key and joined by ``&``, without ``hmac``/``signature``."""
    message = "&".join(f"{key}={params[key]}" for key in sorted(params) if key not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class ShopifyOAuth(OAuthFlow):
    settings_prefix = "SHOPIFY"
    use_pkce = False  # Shopify's authorization-code grant has no PKCE; the client secret and hmac protect it
    scope_delimiter = ","
    token_path = "/admin/oauth/access_token"
    refresh_ahead = timedelta(minutes=15)  # 60-minute tokens; the periodic task runs every 5 minutes

    def clean_connect_input(self, params) -> dict:
        return {"shop": clean_shop(params.get("shop", ""))}

    def account_hint(self, extra):
        return extra.get("shop")

    def authorize_endpoint(self, extra):
        return f"{shop_base_url(extra['shop'])}/admin/oauth/authorize"

    def authorize_params(self, session, code_challenge):
        # No grant_options[]: an offline (app) token, not one tied to the merchant's login.
        return {"client_id": self.client_id(), "scope": ",".join(self.scopes()),
                "redirect_uri": session.redirect_uri, "state": session.state}

    def verify_callback(self, params, session) -> None:
        shop = params.get("shop", "")
        if not valid_shop(shop):
            raise BAD_SHOP
        received = params.get("hmac", "")
        expected = callback_hmac({k: params.get(k) for k in params}, self.client_secret())
        if not received or not hmac.compare_digest(received.lower(), expected):
            raise OAuthFlowError("bad_hmac", "The reply did not carry Shopify's signature, so it was refused.")
        try:
            age = time.time() - int(params.get("timestamp", ""))
        except ValueError:
            age = None
        if age is None or age > CALLBACK_MAX_AGE or age < -CALLBACK_MAX_SKEW:
            raise OAuthFlowError("stale_timestamp", "The reply from Shopify is too old, so it was refused.")
        if shop != session.extra.get("shop"):
            raise OAuthFlowError("shop_mismatch", "Shopify answered for a different shop than the one you entered.")

    def token_base_url(self, account):
        return shop_base_url(account)

    def exchange_fields(self, session, code):
        # No redirect_uri or verifier at Shopify's exchange; expiring=1 asks for an expiring offline token.
        return self.code_request(code, client_secret=self.client_secret(), expiring=1)

    def revoke(self, connection) -> bool:
        # The documented way for an app to uninstall itself (GraphQL appUninstall; the REST equivalent is DELETE
        # /admin/api_permissions/current.json with no version segment). Uninstalling revokes every token.
        from integrations.http import client_for
        from integrations.http.errors import ProviderError

        result = (client_for(connection).graphql(APP_UNINSTALL) or {}).get("appUninstall") or {}
        errors = result.get("userErrors") or []
        if errors or not result.get("app"):
            codes = [e.get("code") or "USER_ERROR" for e in errors] or ["NO_APP"]
            raise ProviderError("appUninstall refused", codes=codes, provider="shopify")
        return True

    def after_connect(self, connection) -> None:
        from integrations.http import client_for
        from integrations.http.errors import ProviderError

        client = client_for(connection)
        callback = f"{settings.BASE_URL}/webhooks/shopify/"
        registered, failed = [], []
        for topic in WEBHOOK_TOPICS:
            variables = {"topic": topic, "webhookSubscription": {"uri": callback, "format": "JSON"}}
            try:
                data = client.graphql(WEBHOOK_CREATE, variables)
            except ProviderError as exc:
                failed.append(f"{topic}: {exc.__class__.__name__}")
                continue
            result = (data or {}).get("webhookSubscriptionCreate") or {}
            errors = [e.get("message", "") for e in result.get("userErrors") or []]
            # On reconnect the subscription exists already ("Address for this topic has already been taken").
            if errors and not any("taken" in e.lower() for e in errors):
                failed.append(f"{topic}: {'; '.join(errors)[:200]}")
            else:
                registered.append(topic)
        connection.settings = {**(connection.settings or {}),
                               "webhooks": {"registered": registered, "failed": failed}}
        connection.save(update_fields=["settings", "updated_at"])
        if failed:
            logger.warning("shopify connection %s: webhook subscriptions failed for %s", connection.pk, failed)

    def account_name(self, connection) -> str | None:
        from integrations.http import client_for

        data = client_for(connection).graphql(SHOP)
        return ((data or {}).get("shop") or {}).get("name") or None

    def test_connection(self, connection) -> str:
        from integrations.http import client_for

        data = client_for(connection).graphql(SHOP)
        shop = (data or {}).get("shop") or {}
        return f"Shopify answered: shop {shop.get('name') or shop.get('myshopifyDomain') or '?'}."

