"""Connections by health state, computed from runs, circuit breakers and tokens.

Issue 15 builds the per-connection health model (``integrations/health.py``) in parallel; until it lands, this is
the ONE function the dashboard, the admin filters and ``/metrics`` ask, so it can later be pointed at that model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncSchedule
from integrations.models.sync import COMPLETED_RUN_STATES

log = logging.getLogger("shelfops.console")

# Ordered worst first: a connection is shown in the first state that applies.
STATES = {
    "needs_reconnect": "Needs reconnect",
    "breaker_open": "Breaker open",
    "failing": "Failing",
    "stale": "Stale",
    "pending": "Pending",
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
    """Connection id -> its health state (a key of ``STATES``)."""
    streams = stream_states(now) if streams is None else streams
    connections = list(Connection.objects.only("pk", "provider", "external_account_id", "status"))
    active = [c for c in connections if c.status == Connection.Status.ACTIVE]
    breakers = open_breakers(active)
    failing = {s.connection_id for s in streams if s.failing}
    stale = {s.connection_id for s in streams if s.stale}
    states = {}
    for c in connections:
        if c.status != Connection.Status.ACTIVE:
            states[c.pk] = c.status  # pending, needs_reconnect, disconnected share their names with STATES
        elif c.pk in breakers:
            states[c.pk] = "breaker_open"
        elif c.pk in failing:
            states[c.pk] = "failing"
        elif c.pk in stale:
            states[c.pk] = "stale"
        else:
            states[c.pk] = "healthy"
    return states
