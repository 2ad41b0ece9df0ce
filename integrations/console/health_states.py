"""Connections by health state (issue 15's model, ``integrations/health.py``) and streams by freshness, for the
dashboard, the admin "health" filters and ``/metrics``: the ONE place they ask, so a number on the dashboard and
the list behind it agree."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncSchedule
from integrations.models.sync import COMPLETED_RUN_STATES

log = logging.getLogger("shelfops.console")

# Issue 15's health states (integrations/health.py), worst first, with the words the portal uses.
STATES = {
    "needs_reconnect": "Needs reconnect",
    "failing": "Failing",
    "paused": "Paused",
    "degraded": "Degraded",
    "pending": "Connecting",
    "healthy": "Healthy",
    "disconnected": "Disconnected",
}
# A stream is stale when its last success is older than this many schedule intervals (and at least the floor):
# one missed run is noise, three in a row mean nobody is getting fresh data.
FRESHNESS_INTERVALS = 3
FRESHNESS_FLOOR = timedelta(minutes=15)


@dataclass(frozen=True)
class StreamState:
    schedule_id: int
    connection_id: int
    stream: str
    enabled: bool
    latest_status: str | None
    last_success_at: datetime | None
    stale: bool

    @property
    def failing(self) -> bool:
        return self.latest_status == SyncRun.Status.FAILED


def stream_states(now: datetime | None = None) -> list[StreamState]:
    """Every schedule of an active connection with its latest run's status and last success. One query: each
    subquery is an index range scan on ``syncrun_conn_stream`` (connection, stream, -created_at)."""
    now = now or timezone.now()
    runs = SyncRun.objects.filter(connection=OuterRef("connection_id"), stream=OuterRef("stream")).order_by(
        "-created_at")
    rows = (
        SyncSchedule.objects.filter(connection__status=Connection.Status.ACTIVE)
        .annotate(
            latest_status=Subquery(runs.values("status")[:1]),
            # A run that refused some records still brought the rest: it counts as fresh data (issue 15's health
            # says "succeeded with errors" separately).
            last_success_at=Subquery(runs.filter(status__in=COMPLETED_RUN_STATES).values("finished_at")[:1]),
        )
        .values_list("pk", "connection_id", "stream", "enabled", "interval_seconds", "latest_status",
                     "last_success_at", "connection__connected_at")
    )
    out = []
    for pk, conn_id, stream, enabled, interval, latest, success, connected_at in rows:
        allowed = max(FRESHNESS_FLOOR, timedelta(seconds=interval * FRESHNESS_INTERVALS))
        since = success or connected_at
        stale = bool(enabled and since is not None and now - since > allowed)
        out.append(StreamState(pk, conn_id, stream, enabled, latest, success, stale))
    return out


def breaker_states(connections) -> dict[int, str]:
    """Connection id -> its provider account's breaker state ("closed", "open", "half_open"), in one round trip
    to the shared store. Unknown providers are left out; an unreachable store yields {} (pages still render)."""
    from integrations.http.store import get_store
    from integrations.providers.registry import UnknownProvider, get_provider

    keys = {}
    for connection in connections:
        try:
            keys[connection.pk] = get_provider(connection.provider).account_key(connection)
        except UnknownProvider:
            continue
    try:
        states = get_store().breaker_states(set(keys.values()))
    except Exception:  # noqa: BLE001  (the dashboard must render with the state store down)
        log.warning("breaker states unreadable", exc_info=True)
        return {}
    return {pk: states.get(key, "closed") for pk, key in keys.items()}


def open_breakers(connections) -> set[int]:
    """Ids of the given connections whose breaker is open or half-open."""
    return {pk for pk, state in breaker_states(connections).items() if state in ("open", "half_open")}


def connection_states(now: datetime | None = None, streams: list[StreamState] | None = None) -> dict[int, str]:
    """Connection id -> its health state (a key of ``STATES``): issue 15's health model (``integrations.health``),
    as the last refresh stored it (after every run and by the periodic check), so the dashboard and its lists count
    with one indexed column. A connection not refreshed yet is computed now, in bulk."""
    from integrations import health

    # The secrets are never needed here (and each costs a decryption per row).
    rows = list(Connection.objects.defer("access_token", "refresh_token", "private_key"))
    states = {c.pk: c.health_state for c in rows if c.health_state}
    unrefreshed = [c for c in rows if not c.health_state]
    if unrefreshed:
        states.update({pk: h.state for pk, h in health.connections_health(unrefreshed, now=now).items()})
    return states
