"""One health per connection, in words a merchant can act on.

Derived, never entered: from the connection's token state, its provider account's circuit breaker, each stream's
latest run and last completed run against its schedule (freshness), refused records, paused streams, and items
waiting for matching (unmapped mappings that hold stock or sales rows). The portal, admin, API and notifications
all read it from here.

API (for the portal, admin, API and the staff dashboard):
    connection_health(connection) -> Health(state, reasons)     # a handful of queries
    connections_health(connections) -> {connection.pk: Health}  # the same queries once for a whole list
    refresh_health(connection_id) -> Health                     # compute, store, notify once per change
The stored copy (``Connection.health_state`` / ``health_reasons`` / ``health_changed_at``) is what the last
refresh saw: cheap to filter and count in lists (``Connection.objects.filter(health_state="failing")``), refreshed
after every run and by the periodic check (``integrations.health.check_connections``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncSchedule
from integrations.models.sync import COMPLETED_RUN_STATES

log = logging.getLogger(__name__)

HEALTHY, DEGRADED, FAILING, PAUSED, NEEDS_RECONNECT = "healthy", "degraded", "failing", "paused", "needs_reconnect"
PENDING, DISCONNECTED = "pending", "disconnected"
LABELS = {HEALTHY: "Healthy", DEGRADED: "Degraded", FAILING: "Failing", PAUSED: "Paused",
          NEEDS_RECONNECT: "Needs reconnect", PENDING: "Connecting", DISCONNECTED: "Disconnected"}
# Worst last: a connection's state is its worst reason's.
SEVERITY = [HEALTHY, DEGRADED, FAILING, PAUSED, NEEDS_RECONNECT]
ATTENTION_STATES = (DEGRADED, FAILING, PAUSED, NEEDS_RECONNECT)


@dataclass(frozen=True)
class Reason:
    code: str  # stable while the condition holds ("stale:orders"), so a notification is sent once
    state: str
    text: str


@dataclass(frozen=True)
class Health:
    state: str
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.reasons]

    @property
    def needs_attention(self) -> bool:
        return self.state in ATTENTION_STATES

    def as_json(self) -> dict:
        return {"state": self.state, "label": self.label,
                "reasons": [{"code": r.code, "state": r.state, "text": r.text} for r in self.reasons]}


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


def _every(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"every {unit}" if n == 1 else f"every {n} {unit}s"
    return f"every {seconds} seconds"


def stale_after(interval_seconds: int) -> timedelta:
    """A stream is stale when its last completed run is older than two intervals plus a grace period: one missed
    slot is noise (jitter, a long run), two are a pattern."""
    grace = float(getattr(settings, "HEALTH_FRESHNESS_GRACE_SECONDS", 600))
    return timedelta(seconds=2 * interval_seconds + grace)


# --- facts ------------------------------------------------------------------------------------------------------
def _latest_per_stream(ids, **conditions) -> dict[tuple[int, str], SyncRun]:
    rows = (
        SyncRun.objects.filter(connection_id__in=ids, **conditions)
        .annotate(rank=Window(RowNumber(), partition_by=[F("connection_id"), F("stream")],
                              order_by=[F("created_at").desc(), F("id").desc()]))
        .filter(rank=1)
        .defer("cursor_before", "cursor_after")
    )
    return {(r.connection_id, r.stream): r for r in rows}


def _waiting_for_matching(connections) -> dict[tuple[str, str], tuple[int, int]]:
    """(provider, account) -> (unmapped items, unmapped locations) that hold stock or sales rows."""
    from inventory.models import InventoryLevel, ProductMapping, StoreMapping, Transaction

    pairs = {(c.provider, c.external_account_id) for c in connections if c.external_account_id}
    if not pairs:
        return {}
    accounts = Q()
    for provider, account in pairs:
        accounts |= Q(provider=provider, external_account_id=account)
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for slot, model, target, rel in ((0, ProductMapping, "product", "product_mapping"),
                                     (1, StoreMapping, "store", "store_mapping")):
        held = Exists(InventoryLevel.objects.filter(**{rel: OuterRef("pk")})) | Exists(
            Transaction.objects.filter(**{rel: OuterRef("pk")}))
        rows = (model.objects.filter(accounts, **{f"{target}__isnull": True}).filter(held)
                .values("provider", "external_account_id").annotate(n=Count("pk")))
        for row in rows:
            out[(row["provider"], row["external_account_id"])][slot] = row["n"]
    return {k: (v[0], v[1]) for k, v in out.items()}


def _breakers(connections) -> dict[int, str]:
    """Connection id -> its provider account's breaker state, for all of them in one round trip (one query on the
    embedded default), so a list's health costs the same for 1 or 1,000 connections."""
    from integrations.http.store import get_store
    from integrations.providers import get_provider
    from integrations.providers.registry import UnknownProvider

    keys = {}
    for connection in connections:
        try:
            keys[connection.pk] = get_provider(connection.provider).account_key(connection)
        except UnknownProvider:
            continue
    try:
        states = get_store().breaker_states(keys.values()) if keys else {}
    except Exception:  # noqa: BLE001 - health must render when the state store is down; the breaker is unknown
        log.warning("breaker states unavailable for %d connection(s)", len(keys), exc_info=True)
        return {}
    return {pk: states.get(key, "closed") for pk, key in keys.items()}


@dataclass
class _Facts:
    schedules: dict = field(default_factory=lambda: defaultdict(list))
    latest: dict = field(default_factory=dict)
    completed: dict = field(default_factory=dict)
    waiting: dict = field(default_factory=dict)
    breakers: dict = field(default_factory=dict)


def _gather(connections) -> _Facts:
    live = [c for c in connections if c.status not in (Connection.Status.DISCONNECTED, Connection.Status.PENDING)]
    facts = _Facts()
    if not live:
        return facts
    ids = [c.pk for c in live]
    for s in SyncSchedule.objects.filter(connection_id__in=ids).order_by("stream"):
        facts.schedules[s.connection_id].append(s)
    facts.latest = _latest_per_stream(ids)
    facts.completed = _latest_per_stream(ids, status__in=COMPLETED_RUN_STATES)
    facts.waiting = _waiting_for_matching(live)
    facts.breakers = _breakers([c for c in live if c.status != Connection.Status.NEEDS_RECONNECT])
    return facts


# --- rules ------------------------------------------------------------------------------------------------------
def _derive(connection, facts: _Facts, now) -> Health:
    from integrations.oauth.status import attention
    from integrations.providers import get_provider
    from integrations.sync.failures import plain_error

    if connection.status == Connection.Status.DISCONNECTED:
        when = f" on {_when(connection.disconnected_at)}" if connection.disconnected_at else ""
        reasons = [Reason("disconnected", DISCONNECTED, f"Disconnected{when}: not syncing; data already synced stays.")]
        if connection.problem:  # e.g. the revoke at the provider failed: the app may still be installed there
            reasons.append(Reason("disconnect-problem", DISCONNECTED, connection.problem))
        return Health(DISCONNECTED, tuple(reasons))
    if connection.status == Connection.Status.PENDING:
        return Health(PENDING, (Reason("pending", PENDING, "Waiting for the connection to be authorized."),))
    provider = get_provider(connection.provider)
    reasons: list[Reason] = []
    if connection.status == Connection.Status.NEEDS_RECONNECT:
        reasons.append(Reason("token", NEEDS_RECONNECT, connection.problem
                              or f"{provider.name} no longer accepts ShelfOps' access: reconnect."))
    else:
        warning = attention(connection)
        if warning:
            reasons.append(Reason("token-expiring", DEGRADED, warning))
        if facts.breakers.get(connection.pk) in ("open", "half_open"):
            reasons.append(Reason("breaker", FAILING, f"{provider.name} kept failing, so ShelfOps paused its calls "
                                  "for a moment; syncs retry on their own."))
    for schedule in facts.schedules.get(connection.pk, []):
        reasons += _stream_reasons(connection, schedule, facts, now, plain_error)
    items, locations = facts.waiting.get((connection.provider, connection.external_account_id), (0, 0))
    if items or locations:
        parts = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in ((items, "item"), (locations, "location")) if n]
        reasons.append(Reason("matching", DEGRADED, f"{' and '.join(parts)} waiting for matching: their stock and "
                              "sales are held until ShelfOps staff match them."))
    state = max((r.state for r in reasons), key=SEVERITY.index, default=HEALTHY)
    return Health(state, tuple(sorted(reasons, key=lambda r: -SEVERITY.index(r.state))))


def _stream_reasons(connection, schedule, facts: _Facts, now, plain_error) -> list[Reason]:
    stream = schedule.stream
    title = stream.capitalize()
    if schedule.paused_at is not None:
        return [Reason(f"paused:{stream}", PAUSED, f"{title}: {schedule.paused_reason or 'paused.'}")]
    if not schedule.enabled:
        return []  # staff switched it off on purpose
    out = []
    run = facts.latest.get((connection.pk, stream))
    done = facts.completed.get((connection.pk, stream))
    if run is not None and run.status == SyncRun.Status.FAILED and connection.is_active:
        out.append(Reason(f"failing:{stream}", FAILING, f"{title}: the last sync failed at "
                          f"{_when(run.finished_at or run.created_at)}: {plain_error(run.error)}"))
    if done is not None and done.status == SyncRun.Status.SUCCEEDED_WITH_ERRORS:
        first = f" (first: {done.refused_samples[0]})" if done.refused_samples else ""
        out.append(Reason(f"refused:{stream}", DEGRADED, f"{title}: {done.records_refused} record(s) refused in the "
                          f"last sync{first}."))
    since = (done.finished_at if done is not None else connection.connected_at) or connection.created_at
    if connection.is_active and now - since > stale_after(schedule.interval_seconds):
        expected = _every(schedule.interval_seconds)
        text = (f"{title}: not updated since {_when(done.finished_at)} (expected {expected})." if done is not None
                else f"{title}: never synced since connecting at {_when(since)} (expected {expected}).")
        out.append(Reason(f"stale:{stream}", DEGRADED, text))
    return out


# --- API --------------------------------------------------------------------------------------------------------
def connections_health(connections, *, now=None) -> dict[int, Health]:
    connections = list(connections)
    facts = _gather(connections)
    now = now or timezone.now()
    return {c.pk: _derive(c, facts, now) for c in connections}


def connection_health(connection, *, now=None) -> Health:
    return connections_health([connection], now=now)[connection.pk]


def stored_health(connection) -> Health:
    """The health the last refresh stored: no queries (lists, banners). Empty until first refreshed."""
    state = connection.health_state or HEALTHY
    reasons = tuple(Reason(r.get("code", ""), r.get("state", state), r.get("text", ""))
                    for r in (connection.health_reasons or []))
    return Health(state, reasons)


def refresh_health(connection_id: int, *, now=None) -> Health | None:
    """Recompute, store, and notify when the state changed or a new problem appeared (once: the row is locked
    while comparing, so two workers finishing runs at once cannot both send)."""
    connection = Connection.objects.select_related("retailer").filter(pk=connection_id).first()
    if connection is None:
        return None
    health = connection_health(connection, now=now)
    return store_health(connection, health)


def store_health(connection, health: Health) -> Health:
    from integrations.notifications import notify_health_change

    now = timezone.now()
    new_json = health.as_json()["reasons"]
    if connection.health_state == health.state and connection.health_reasons == new_json:
        return health  # unchanged since the row was read: no lock, no write (the common case every minute)
    with transaction.atomic():
        # NO KEY: does not block the webhook inbox's INSERTs that name this connection (see oauth/locks.py).
        row = (Connection.objects.select_for_update(no_key=True).only("health_state", "health_reasons")
               .get(pk=connection.pk))
        old_state, old_codes = row.health_state, {r.get("code") for r in row.health_reasons or []}
        if old_state == health.state and row.health_reasons == new_json:
            return health
        changed = old_state != health.state
        fields = {"health_state": health.state, "health_reasons": new_json}
        if changed:
            fields["health_changed_at"] = now
        Connection.objects.filter(pk=connection.pk).update(**fields)
        new_problems = [r for r in health.reasons if r.code not in old_codes and r.state in ATTENTION_STATES]
        # The first health of a new connection is news only when it is bad.
        first_and_fine = not old_state and not health.needs_attention
        if (changed and not first_and_fine) or new_problems:
            transaction.on_commit(lambda: notify_health_change(connection, old_state or None, health, new_problems))
    connection.health_state, connection.health_reasons = health.state, new_json
    return health


def refresh_all(*, batch: int = 200) -> int:
    """The periodic check: refresh every connected connection (freshness breaches appear with no run ending)."""
    ids = list(Connection.objects.exclude(status=Connection.Status.DISCONNECTED).values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch):
        chunk = list(Connection.objects.select_related("retailer").filter(pk__in=ids[start:start + batch]))
        for connection, health in zip(chunk, connections_health(chunk).values(), strict=True):
            store_health(connection, health)
            done += 1
    return done
