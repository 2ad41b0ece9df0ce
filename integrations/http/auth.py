"""Access tokens for calls bound to a connection.

The stored token is used as is while it is not about to expire; otherwise (and once after a 401, with
``force=True``) the connect area's ``integrations.oauth.tokens.fresh_access_token`` refreshes it under its
per-connection lock. The import is lazy and kept in :func:`fresh_access_token` so the client does not depend on
that module at import time (and tests can replace this one function)."""

from __future__ import annotations

from .errors import ProviderAuthError


def fresh_access_token(connection, force: bool = False) -> str:
    from integrations.oauth.tokens import fresh_access_token as refresh

    return refresh(connection, force=force)


def access_token_for(connection, *, refresh_margin: float, force: bool = False) -> str:
    if not force and connection.access_token and not connection.token_expires_within(refresh_margin):
        return connection.access_token
    token = fresh_access_token(connection, force=force)  # a module global: tests may monkeypatch it
    if not token:
        raise ProviderAuthError("no usable access token; the connection needs reconnecting",
                                provider=connection.provider)
    return token
