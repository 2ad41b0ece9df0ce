"""Disconnecting: revoke at the provider where it allows, delete the stored tokens, disable the schedules. Synced
data, runs, webhook events and call logs stay. Shopify's ``app/uninstalled`` webhook calls this with
``revoke=False`` (the grant is already gone)."""

from __future__ import annotations

import logging

from django.utils import timezone

from integrations.models import Connection, SyncSchedule

from .base import TokenEndpointError
from .locks import connection_lock
from .store import clear_tokens
from .tokens import flow_for

logger = logging.getLogger("integrations.oauth")


def disconnect(connection: Connection, *, reason: str, revoke: bool = True) -> Connection:
    """Returns the connection with ``revoke_outcome``: "revoked", "not offered" (the provider has no way, or it
    was not asked), or "failed: <why>". A failed revoke is recorded on the row (``problem`` and
    ``settings["revoke"]``), so the merchant and staff see it as failed, never as done."""
    outcome = "not offered"
    # The refresh lock: a refresh in flight must not write new tokens back after we cleared them.
    with connection_lock(connection.pk):
        current = Connection.objects.get(pk=connection.pk)
        if revoke and current.access_token:
            outcome = _revoke(current)
        clear_tokens(current)
        current.status = Connection.Status.DISCONNECTED
        current.disconnected_at = timezone.now()
        current.problem = ""
        current.last_refresh_error = ""
        current.refresh_failures = 0
        if outcome.startswith("failed"):
            current.problem = _revoke_problem(current, outcome)
        if revoke:
            current.settings = {**(current.settings or {}), "revoke": {
                "outcome": outcome, "at": current.disconnected_at.isoformat()}}
        current.save()
        SyncSchedule.objects.filter(connection=current).update(enabled=False)
    logger.info("disconnected %s connection %s (%s; revoke at provider: %s)", current.provider, current.pk,
                reason, outcome)
    for name in ("access_token", "refresh_token", "token_expires_at", "refresh_token_expires_at", "status",
                 "disconnected_at", "problem", "settings"):
        setattr(connection, name, getattr(current, name))
    connection.revoke_outcome = outcome
    return connection


def _revoke_problem(connection: Connection, outcome: str) -> str:
    from integrations.providers import get_provider

    name = get_provider(connection.provider).name
    return (f"Removing ShelfOps' access at {name} failed ({outcome.removeprefix('failed: ')}). ShelfOps deleted its "
            f"copy of the access, but {name} may still list the app: remove it there.")[:500]


def _revoke(connection: Connection) -> str:
    """A provider that is down must not keep a merchant connected against their will: disconnect goes on, and the
    failure is returned so it is recorded and shown."""
    from integrations.http.errors import ProviderError

    try:
        return "revoked" if flow_for(connection).revoke(connection) else "not offered"
    except (TokenEndpointError, ProviderError) as exc:
        status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
        codes = ",".join(getattr(exc, "codes", None) or [])
        why = " ".join(part for part in (exc.__class__.__name__, f"HTTP {status}" if status else "", codes) if part)
        logger.warning("revoking %s connection %s at the provider failed: %s", connection.provider, connection.pk,
                       why)
        return f"failed: {why}"
