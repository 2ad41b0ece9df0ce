"""Finishing a connect: attach the granted tokens to the retailer's connection for that external account, create
its sync schedules, run the provider's post-connect set-up (Shopify webhook subscriptions), mark it active and
queue the initial syncs at once (when the transaction commits), not at the next dispatcher tick plus jitter."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import actions as audit_actions
from audit import record
from integrations.models import Connection, OAuthSession, SyncSchedule

from .base import OAuthFlow, TokenSet
from .errors import OAuthFlowError
from .store import apply_tokens

logger = logging.getLogger("integrations.oauth")


def _account_taken(provider) -> OAuthFlowError:
    return OAuthFlowError(
        "account_taken",
        f"This {provider.name} account is already connected to another ShelfOps retailer, so it was not connected.",
        advice="If it should move to your retailer, ask ShelfOps support to disconnect it from the other one first.",
    )


def refuse_if_connected_elsewhere(provider, account: str | None, retailer_id: int) -> None:
    """Refuse before any token is issued when the account (known up front: Shopify shop, NetSuite account) is
    already another retailer's. This matters beyond tidiness: Shopify revokes a shop's older expiring tokens when
    it issues a new one, so exchanging the code first would break the other retailer's connection."""
    if account and Connection.objects.filter(provider=provider.key, external_account_id=account).exclude(
        retailer_id=retailer_id
    ).exists():
        raise _account_taken(provider)


def complete_connection(session: OAuthSession, flow: OAuthFlow, tokens: TokenSet, request=None) -> Connection:
    provider = flow.provider
    account = tokens.account_id
    taken = _account_taken(provider)
    now = timezone.now()
    try:
        with transaction.atomic():
            connection = (
                Connection.objects.select_for_update()
                .filter(provider=provider.key, external_account_id=account)
                .first()
            )
            if connection is not None and connection.retailer_id != session.retailer_id:
                raise taken
            reconnect = connection is not None
            if connection is None:
                connection = Connection(retailer=session.retailer, provider=provider.key, external_account_id=account)
            apply_tokens(connection, tokens, now, is_refresh=False)
            connection.display_name = connection.display_name or account
            connection.auth_mode = Connection.AuthMode.AUTHORIZATION_CODE
            connection.status = Connection.Status.ACTIVE
            connection.problem = ""
            connection.connected_at = now
            connection.disconnected_at = None
            connection.save()
            ensure_schedules(connection, now)
            record(audit_actions.CONNECT, actor=session.user, connection=connection, request=request,
                   reconnect=reconnect)
    except IntegrityError:
        # Two callbacks for the same external account raced; the unique constraint picked the winner.
        raise taken from None
    logger.info("%s %s connection %s for retailer %s", "reconnected" if reconnect else "connected", provider.key,
                connection.pk, session.retailer_id)
    flow.after_connect(connection)
    fetch_account_name(connection, flow)
    from integrations.sync.services import request_all

    request_all(connection, trigger="connect")
    from integrations.health import refresh_health

    refresh_health(connection.pk)
    return connection


def fetch_account_name(connection: Connection, flow: OAuthFlow) -> None:
    """Replace the id shown as the account's name by its readable name. Best effort: the connection works
    without it, so a failure is logged and the id stays."""
    from integrations.http.errors import ProviderError

    try:
        name = flow.account_name(connection)
    except (ProviderError, ValueError, KeyError) as exc:
        logger.warning("could not fetch the account name of connection %s: %s", connection.pk, type(exc).__name__)
        return
    if name and name != connection.display_name:
        connection.display_name = name[:255]
        Connection.objects.filter(pk=connection.pk).update(display_name=connection.display_name)


def ensure_schedules(connection: Connection, now) -> None:
    """One schedule per stream with the provider's default interval; on reconnect keep staff's interval edits but
    re-enable and resume paused streams. The first runs are queued by ``complete_connection`` at once, so the
    next scheduled run is one interval away."""
    defaults = connection_provider(connection).schedule_defaults
    for stream, interval in defaults.items():
        schedule, created = SyncSchedule.objects.get_or_create(
            connection=connection, stream=stream,
            defaults={"interval_seconds": interval, "next_run_at": now + timedelta(seconds=interval)},
        )
        if not created:
            schedule.enabled = True
            schedule.next_run_at = now + timedelta(seconds=schedule.interval_seconds)
            schedule.paused_at, schedule.paused_reason = None, ""
            schedule.consecutive_failures, schedule.failing_since = 0, None
            schedule.save(update_fields=["enabled", "next_run_at", "paused_at", "paused_reason",
                                         "consecutive_failures", "failing_since"])


def connection_provider(connection: Connection):
    from integrations.providers import get_provider

    return get_provider(connection.provider)
