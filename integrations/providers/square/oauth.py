"""Square OAuth (provider-facts 1.2): PKCE code flow, JSON token endpoint, ``expires_at`` as an ISO timestamp (no
``expires_in``), scopes read from the token-status endpoint, revoke with ``Authorization: Client <secret>``."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from integrations.oauth.base import OAuthFlow, TokenEndpointError, TokenSet
from integrations.oauth.errors import OAuthFlowError


class SquareOAuth(OAuthFlow):
    settings_prefix = "SQUARE"
    # PKCE: the code is useless without the verifier. PKCE refresh tokens are single-use and rotate, which the
    # refresh lock makes safe.
    use_pkce = True
    token_path = "/oauth2/token"
    # Square advises refreshing at least every 7 days; a token lasts 30 days, so refresh once 23 days remain.
    refresh_ahead = timedelta(days=23)

    def base_url(self) -> str:
        return settings.SQUARE_BASE_URL

    def authorize_endpoint(self, extra: dict) -> str:
        return f"{self.base_url()}/oauth2/authorize"

    def authorize_params(self, session, code_challenge):
        params = super().authorize_params(session, code_challenge)
        params["session"] = "false"  # always show the seller's login, never a silently reused dashboard session
        return params

    def token_base_url(self, account):
        return self.base_url()

    # The exchange is the base PKCE one: client_id, code, code_verifier and redirect_uri, no secret.

    def refresh_fields(self, connection):
        # A PKCE grant refreshes with client_id + refresh_token only.
        return self.refresh_request(connection.refresh_token, client_id=self.client_id())

    def parse_tokens(self, payload, now) -> TokenSet:
        tokens = super().parse_tokens(payload, now)
        from django.utils.dateparse import parse_datetime

        if payload.get("refresh_token_expires_at"):
            tokens.refresh_token_expires_at = parse_datetime(str(payload["refresh_token_expires_at"]))
        tokens.account_id = payload.get("merchant_id") or None
        return tokens

    def account_from_exchange(self, payload, session) -> str:
        merchant_id = payload.get("merchant_id")
        if not merchant_id:
            raise OAuthFlowError("no_account", "Square did not say which seller account was connected.")
        return str(merchant_id)

    def granted_scopes(self, tokens, session):
        # The token response carries no scopes; the token-status endpoint does.
        try:
            payload = self.post(self.base_url(), "/oauth2/token/status", {},
                                headers={"Authorization": f"Bearer {tokens.access_token}"},
                                account_key=tokens.account_id)
        except TokenEndpointError:
            return self.scopes()  # what we asked for; a later token-status read can correct it
        scopes = payload.get("scopes")
        return [str(s) for s in scopes] if isinstance(scopes, list) else self.scopes()

    def revoke(self, connection) -> bool:
        # Without revoke_only_access_token Square revokes all of this app's tokens for the seller: the whole grant.
        self.post(self.base_url(), "/oauth2/revoke",
                  {"client_id": self.client_id(), "access_token": connection.access_token},
                  headers={"Authorization": f"Client {self.client_secret()}"},
                  account_key=connection.external_account_id)
        return True

    def account_name(self, connection) -> str | None:
        # Every Square Location carries the seller's business_name; locations is a call the granted scopes allow.
        from integrations.http import client_for

        locations = (client_for(connection).get("/v2/locations", retries=1).json() or {}).get("locations") or []
        return next((loc["business_name"] for loc in locations if loc.get("business_name")), None)

    def test_connection(self, connection) -> str:
        from integrations.http import client_for

        response = client_for(connection).get("/v2/locations")
        count = len((response.json() or {}).get("locations") or [])
        return f"Square answered: {count} location(s) visible."
