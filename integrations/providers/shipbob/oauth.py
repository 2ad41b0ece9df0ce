"""ShipBob OAuth (developer.shipbob.com "Authentication", "Migrate to PKCE"): ``/connect/authorize`` with PKCE
S256, ``scope`` including ``offline_access`` (for a refresh token), ``state`` and ``nonce``; ``/connect/token``
(form-encoded) for the code and refresh grants, where the client secret is still required next to the PKCE
verifier. The connected account is the channel the grant created (``GET /channel``): ShipBob's API is per user
and application, and the channel is how ShipBob names that pair."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings

from integrations.oauth.base import OAuthFlow
from integrations.oauth.errors import OAuthFlowError

WEBHOOK_TOPICS = ["order.shipped", "order.shipment.cancelled"]


class ShipBobOAuth(OAuthFlow):
    settings_prefix = "SHIPBOB"
    use_pkce = True
    token_body = "form"
    token_path = "/connect/token"
    refresh_ahead = timedelta(minutes=10)

    def authorize_endpoint(self, extra: dict) -> str:
        return f"{settings.SHIPBOB_AUTH_URL}/connect/authorize"

    def authorize_params(self, session, code_challenge):
        params = super().authorize_params(session, code_challenge)
        # The nonce binds an ID token to this request; ShipBob requires one on authorize.
        params["nonce"] = secrets.token_urlsafe(24)
        return params

    def token_base_url(self, account):
        return settings.SHIPBOB_AUTH_URL

    def exchange_fields(self, session, code):
        return {"grant_type": "authorization_code", "client_id": self.client_id(),
                "client_secret": self.client_secret(), "code": code, "code_verifier": session.code_verifier,
                "redirect_uri": session.redirect_uri}

    def account_from_exchange(self, payload, session) -> str:
        return channel_of(payload.get("access_token") or "")

    def after_connect(self, connection) -> None:
        from .subscriptions import subscribe

        subscribe(connection, WEBHOOK_TOPICS)

    def revoke(self, connection) -> bool:
        """ShipBob documents no token revocation (a PAT is revoked in its dashboard): remove our webhook
        subscriptions, so nothing is delivered for a disconnected account, and report "not offered"."""
        from .subscriptions import unsubscribe

        unsubscribe(connection)
        return False

    def account_name(self, connection) -> str | None:
        return None  # ShipBob's API names no merchant; the channel id stays the account's name

    def test_connection(self, connection) -> str:
        from integrations.http import client_for

        centres = client_for(connection).get("/fulfillment-center").json() or []
        return f"ShipBob answered: {len(centres)} fulfilment centre(s) visible."


def channel_of(access_token: str) -> str:
    """The channel id of a token (OAuth grant or personal access token), read with ``GET /channel``."""
    from integrations.http import app_client
    from integrations.http.errors import ProviderError

    base = f"{settings.SHIPBOB_API_URL}/{settings.SHIPBOB_API_VERSION}"
    try:
        answer = app_client("shipbob", base).request("GET", "/channel", retries=2,
                                                     headers={"Authorization": f"Bearer {access_token}"})
    except ProviderError as exc:
        raise OAuthFlowError("no_account", f"ShipBob did not accept the token ({exc.__class__.__name__}).") from None
    channels = answer.json() if answer.status_code == 200 else None
    if not isinstance(channels, list) or not channels or "id" not in channels[0]:
        raise OAuthFlowError("no_account", f"ShipBob refused the token (HTTP {answer.status_code}).")
    return str(channels[0]["id"])
