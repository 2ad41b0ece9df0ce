"""Fresh access tokens, refreshed under a per-connection lock.

Any number of workers may find the same token about to expire (or get the same 401). Each takes the lock, then
re-reads the row: the first one refreshes, the rest find a new token and use it. So N workers make one refresh
call, which matters doubly where refresh tokens are single-use (Shopify, Square PKCE).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from integrations.models import Connection
from integrations.providers import get_provider
from shelfops.commit import require_durable_commit

from .base import OAuthFlow
from .errors import TokenRefreshError
from .locks import connection_lock
from .store import TOKEN_FIELDS, apply_tokens, copy_token_state

logger = logging.getLogger("integrations.oauth")

# Refresh on demand (before an API call) when the token has less than this left.
ON_DEMAND_MARGIN = timedelta(minutes=5)
# Consecutive transient refresh failures after which the connection needs the merchant.
MAX_REFRESH_FAILURES = 3


def _auth_error(message: str):
    from integrations.http.errors import ProviderAuthError

    return ProviderAuthError(message)


def flow_for(connection: Connection) -> OAuthFlow:
    flow = get_provider(connection.provider).oauth()
    if flow is None:
        raise LookupError(f"provider {connection.provider} has no OAuth flow")
    return flow


def needs_refresh(connection: Connection, margin: timedelta) -> bool:
    if not connection.access_token:
        return True
    if connection.token_expires_at is None:
        return False  # a non-expiring token
    return connection.token_expires_at - timezone.now() <= margin


def fresh_access_token(connection: Connection, force: bool = False) -> str:
    """A usable access token for ``connection`` (the instance is updated in place).

    ``force=True`` (after a 401) refreshes unless another worker already replaced the token the caller used.
    Raises ``ProviderAuthError`` (and marks the connection ``needs_reconnect``) when refreshing is impossible.
    """
    if connection.status in (Connection.Status.DISCONNECTED, Connection.Status.NEEDS_RECONNECT):
        raise _auth_error(f"connection {connection.pk} is {connection.status}")
    if not force and not needs_refresh(connection, ON_DEMAND_MARGIN):
        return connection.access_token
    return refresh_connection(connection, force=force, margin=ON_DEMAND_MARGIN)


def refresh_connection(connection: Connection, *, force: bool = False, margin: timedelta = ON_DEMAND_MARGIN) -> str:
    """Refresh under the lock if (after re-reading) it is still needed. Returns the access token."""
    seen_token = connection.access_token
    flow = flow_for(connection)
    with connection_lock(connection.pk):
        current = Connection.objects.get(pk=connection.pk)
        if current.status in (Connection.Status.DISCONNECTED, Connection.Status.NEEDS_RECONNECT):
            copy_token_state(current, connection)
            raise _auth_error(f"connection {current.pk} is {current.status}")
        replaced = current.access_token != seen_token
        if current.access_token and (replaced or not force) and not needs_refresh(current, margin):
            copy_token_state(current, connection)
            return current.access_token  # someone else refreshed while we waited, or nothing to do
        # Raised only after the lock is released: in the row-lock fallback an exception inside would roll back
        # the failure just recorded.
        failure = _refresh_locked(current, flow)
    copy_token_state(current, connection)
    if failure is not None:
        raise failure
    return current.access_token


def _refresh_locked(current: Connection, flow: OAuthFlow) -> Exception | None:
    now = timezone.now()
    try:
        tokens = flow.refresh(current)
    except TokenRefreshError as exc:
        _record_failure(current, flow, exc, now)
        if current.status == Connection.Status.NEEDS_RECONNECT:
            return _auth_error(f"connection {current.pk} needs reconnect")
        if current.access_token and current.token_expires_at and current.token_expires_at > now:
            return None  # refreshing ahead failed, but the current token still works; the next attempt retries
        return _auth_error(f"refresh failed for connection {current.pk}; will retry")
    apply_tokens(current, tokens, now, is_refresh=True)
    if current.problem and current.status == Connection.Status.ACTIVE:
        current.problem = ""
    # The provider has already retired the old refresh token: a caller's transaction that relaxed its commit
    # (webhook processing) must wait for the disk again, or a database crash could lose the only valid one.
    require_durable_commit()
    current.save(update_fields=TOKEN_FIELDS + ["updated_at"])
    logger.info("refreshed token for %s connection %s (expires %s)", current.provider, current.pk,
                current.token_expires_at)
    return None


def _record_failure(current: Connection, flow: OAuthFlow, exc: TokenRefreshError, now) -> None:
    current.refresh_failures += 1
    current.last_refresh_error = f"{now:%Y-%m-%d %H:%M} {exc.reason}"[:1000]
    if exc.permanent or current.refresh_failures >= MAX_REFRESH_FAILURES:
        current.status = Connection.Status.NEEDS_RECONNECT
        current.problem = flow.problem_for_dead_grant() if exc.permanent else (
            f"ShelfOps could not renew {flow.provider.name} access after {current.refresh_failures} attempts: "
            "reconnect."
        )
        logger.warning("%s connection %s needs reconnect: %s", current.provider, current.pk, exc.reason)
    else:
        logger.warning("token refresh failed for %s connection %s (attempt %s): %s", current.provider,
                       current.pk, current.refresh_failures, exc.reason)
    current.save(update_fields=["refresh_failures", "last_refresh_error", "status", "problem", "updated_at"])


def due_for_refresh():
    """Active connections whose token the periodic task should refresh now (each provider's own lead time)."""
    from integrations.providers import all_providers

    now = timezone.now()
    ids: list[int] = []
    for provider in all_providers():
        flow = provider.oauth()
        if flow is None:
            continue
        ids += list(
            Connection.objects.active()
            .filter(provider=provider.key, refresh_token__isnull=False, token_expires_at__lte=now + flow.refresh_ahead)
            .values_list("pk", flat=True)
        )
    return ids
