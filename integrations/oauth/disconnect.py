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
    revoked = False
    # The refresh lock: a refresh in flight must not write new tokens back after we cleared them.
    with connection_lock(connection.pk):
        current = Connection.objects.get(pk=connection.pk)
        if revoke and current.access_token:
            revoked = _revoke(current)
        clear_tokens(current)
        current.status = Connection.Status.DISCONNECTED
        current.disconnected_at = timezone.now()
        current.problem = ""
        current.last_refresh_error = ""
        current.refresh_failures = 0
        current.save()
        SyncSchedule.objects.filter(connection=current).update(enabled=False)
    logger.info("disconnected %s connection %s (%s; revoked at provider: %s)", current.provider, current.pk,
                reason, revoked)
    for name in ("access_token", "refresh_token", "token_expires_at", "refresh_token_expires_at", "status",
                 "disconnected_at", "problem"):
        setattr(connection, name, getattr(current, name))
    return connection


def _revoke(connection: Connection) -> bool:
    """Best effort: a provider that is down must not keep a merchant connected against their will."""
    from integrations.http.errors import ProviderError

    try:
        return flow_for(connection).revoke(connection)
    except (TokenEndpointError, ProviderError) as exc:
        logger.warning("revoking %s connection %s at the provider failed: %s", connection.provider, connection.pk,
                       exc.__class__.__name__)
        return False
