"""How a connection's credentials look, in words, for the portal and admin."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.formats import date_format

from integrations.models import Connection

REAUTHORIZE_WARNING = timedelta(days=1)


def _when(value) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def token_state(connection: Connection) -> str:
    if connection.status == Connection.Status.DISCONNECTED or not connection.access_token:
        return "No access (disconnected)"
    if connection.status == Connection.Status.NEEDS_RECONNECT:
        return "Access lost: reconnect"
    now = timezone.now()
    if connection.token_expires_at is None:
        return "Does not expire"
    if connection.token_expires_at <= now:
        return "Expired; renewed automatically before the next call" if connection.refresh_token else "Expired"
    renew = "renewed automatically" if connection.refresh_token else "reconnect before then"
    return f"Valid until {_when(connection.token_expires_at)}; {renew}"


def attention(connection: Connection) -> str:
    """The problem to show the merchant, in words; empty when nothing needs them."""
    if connection.problem:
        return connection.problem
    expiry = connection.refresh_token_expires_at
    if connection.is_active and expiry and expiry - timezone.now() <= REAUTHORIZE_WARNING:
        from integrations.providers import get_provider

        name = get_provider(connection.provider).name
        return f"{name} needs you to authorize ShelfOps again by {_when(expiry)}: reconnect."
    return ""
