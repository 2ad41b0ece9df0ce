"""Connecting with a pasted personal access token instead of an OAuth consent (contract item 4).

A provider that accepts such tokens returns a ``TokenConnect`` from ``Provider.token_connect()``. The shared part
here checks the token with one authenticated call (``account_for``, the provider's), refuses a bad one with a
readable reason, and stores it like an OAuth grant (encrypted, through ``complete_connection``: schedules,
post-connect set-up such as webhook subscriptions, initial syncs), marked as a personal access token. Such
tokens do not expire and cannot be refreshed: a 401 later marks the connection "needs reconnect".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import SimpleNamespace

from .base import TokenSet
from .errors import OAuthFlowError

MAX_TOKEN_LENGTH = 4096


class TokenRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class TokenConnect(ABC):
    provider: object
    label: str = "Personal access token"
    help_text: str = ""

    @abstractmethod
    def account_for(self, token: str) -> str:
        """The external account the token belongs to, read with an authenticated call; raises TokenRefused."""

    def connect(self, *, request, retailer, token: str):
        from integrations.models import Connection

        from .connect import complete_connection

        token = (token or "").strip()
        if not token or len(token) > MAX_TOKEN_LENGTH or any(c.isspace() or ord(c) < 32 for c in token):
            raise TokenRefused("That does not look like a token: paste it exactly as the provider showed it.")
        account = self.account_for(token)
        flow = self.provider.oauth()
        session = SimpleNamespace(retailer=retailer, retailer_id=retailer.pk, user=request.user)
        try:
            connection = complete_connection(session, flow, TokenSet(access_token=token, account_id=account),
                                             request=request)
        except OAuthFlowError as exc:
            raise TokenRefused(exc.message if hasattr(exc, "message") else str(exc)) from None
        Connection.objects.filter(pk=connection.pk).update(auth_mode=Connection.AuthMode.PERSONAL_ACCESS_TOKEN)
        connection.auth_mode = Connection.AuthMode.PERSONAL_ACCESS_TOKEN
        return connection
