"""Beat tasks of the OAuth area (names fixed in settings.SHELFOPS_PERIODIC_TASKS)."""

from __future__ import annotations

import logging

from celery import shared_task

from integrations.models import Connection

from .state import prune_sessions
from .tokens import due_for_refresh, flow_for, refresh_connection

logger = logging.getLogger("integrations.oauth")


@shared_task(name="integrations.oauth.refresh_expiring_tokens")
def refresh_expiring_tokens() -> int:
    """Fan out one refresh task per connection whose token is inside its provider's lead time."""
    ids = due_for_refresh()
    for pk in ids:
        refresh_connection_token.delay(pk)
    if ids:
        logger.info("queued token refresh for %d connection(s)", len(ids))
    return len(ids)


@shared_task(name="integrations.oauth.refresh_connection_token", ignore_result=True)
def refresh_connection_token(connection_id: int) -> str:
    from integrations.http.errors import ProviderAuthError

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.status != Connection.Status.ACTIVE:
        return "skipped"
    try:
        # Under the lock the row is re-read: if another worker (or the client on demand) already refreshed, this
        # finds the token outside the lead time and does nothing.
        refresh_connection(connection, margin=flow_for(connection).refresh_ahead)
    except ProviderAuthError:
        return connection.status
    return "ok"


@shared_task(name="integrations.oauth.prune_oauth_sessions")
def prune_oauth_sessions() -> int:
    return prune_sessions()
