"""Connect with a ShipBob personal access token (non-expiring, the root user's, made under Integrations > API
Tokens in the ShipBob dashboard). The token is checked with ``GET /channel`` before anything is stored."""

from __future__ import annotations

from integrations.oauth.errors import OAuthFlowError
from integrations.oauth.token_connect import TokenConnect, TokenRefused


class ShipBobTokenConnect(TokenConnect):
    def __init__(self, provider):
        super().__init__(provider, label="Personal access token",
                         help_text="ShipBob dashboard > Integrations > API Tokens > Generate New Token "
                                   "(as the account's root user).")

    def account_for(self, token: str) -> str:
        from .oauth import channel_of

        try:
            return channel_of(token)
        except OAuthFlowError:
            raise TokenRefused("ShipBob did not accept this token. Check that it was copied whole and has not "
                               "been revoked.") from None
