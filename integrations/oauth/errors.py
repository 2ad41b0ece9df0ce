"""Errors of the connect flow. Each carries a machine reason (logged, recorded on the OAuthSession) and a message
the merchant can act on (shown on the error page). Neither ever contains a code, token, verifier or secret."""

from __future__ import annotations


class OAuthFlowError(Exception):
    def __init__(self, reason: str, message: str, *, advice: str = "", status: int = 400):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.advice = advice or "Go back to your connections and click Connect to start again."
        self.status = status


class TokenRefreshError(Exception):
    """A refresh attempt failed. ``permanent`` means the grant is dead (invalid_grant, revoked): only the merchant
    reconnecting can fix it; otherwise it is worth retrying later."""

    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
