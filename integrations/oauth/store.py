"""The token store: the only code that writes tokens onto a Connection (encrypted at rest by the model fields)."""

from __future__ import annotations

from datetime import datetime

from integrations.models import Connection

from .base import TokenSet

TOKEN_FIELDS = ["access_token", "refresh_token", "token_expires_at", "refresh_token_expires_at", "scopes",
                "last_refresh_at", "last_refresh_error", "refresh_failures", "problem", "status"]


def apply_tokens(connection: Connection, tokens: TokenSet, now: datetime, *, is_refresh: bool) -> None:
    connection.access_token = tokens.access_token
    connection.token_expires_at = tokens.expires_at
    if tokens.refresh_token:
        connection.refresh_token = tokens.refresh_token
        connection.refresh_token_expires_at = tokens.refresh_token_expires_at
    elif not is_refresh:
        # A fresh grant without a refresh token (non-expiring token): any stored one belongs to an older grant.
        connection.refresh_token = None
        connection.refresh_token_expires_at = None
    # On refresh without a new refresh token the old one stays valid (Square code flow, NetSuite): keep it.
    if tokens.scopes is not None:
        connection.scopes = " ".join(sorted(set(tokens.scopes)))
    connection.last_refresh_at = now
    connection.last_refresh_error = ""
    connection.refresh_failures = 0


def clear_tokens(connection: Connection) -> None:
    connection.access_token = None
    connection.refresh_token = None
    connection.token_expires_at = None
    connection.refresh_token_expires_at = None


def copy_token_state(source: Connection, target: Connection) -> None:
    """Bring a caller's (possibly stale) Connection instance up to date with the row read under the lock."""
    for name in TOKEN_FIELDS:
        setattr(target, name, getattr(source, name))
