"""The numbers on the admin home: what is broken right now, each with the admin list that shows the rows.

Every count is an indexed query (webhook backlog on ``webhook_status_received``, streams through the schedule
table, unmapped items on the mapping tables), so the page stays fast with millions of transactions and events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, WebhookEvent
from inventory.models import ProductMapping, StoreMapping

from .health_states import STATES, connection_states, open_breakers, stream_states

WAITING = (WebhookEvent.Status.RECEIVED, WebhookEvent.Status.QUEUED, WebhookEvent.Status.PROCESSING)
BACKLOG = (*WAITING, WebhookEvent.Status.FAILED, WebhookEvent.Status.UNMATCHED)
BAD = {"needs_reconnect", "failing"}
WARN = {"paused", "degraded", "pending"}


@dataclass
class Tile:
    label: str
    value: int | str
    url: str
    tone: str = "ok"  # ok, warn, bad, muted: the badge colour


@dataclass
class Dashboard:
    connections: list[Tile] = field(default_factory=list)
    streams: list[Tile] = field(default_factory=list)
    webhooks: list[Tile] = field(default_factory=list)
    matching: list[Tile] = field(default_factory=list)
    oldest_waiting_seconds: float | None = None


def admin_list(model_label: str, **params) -> str:
    url = reverse(f"admin:{model_label.replace('.', '_')}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def oldest_first() -> str:
    """The changelist's ``o=`` value that sorts webhook events by received time, oldest first."""
    from integrations.admin.webhooks import WebhookEventAdmin

    return str(WebhookEventAdmin.list_display.index("received_at") + 1)


def age_in_words(seconds: float | None) -> str:
    if seconds is None:
        return "none waiting"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def build(now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    board = Dashboard()
    streams = stream_states(now)
    states = connection_states(now, streams)

    counts = {key: 0 for key in STATES}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    for key, label in STATES.items():
        if not counts[key] or key == "disconnected":
            tone = "muted"
        else:
            tone = "bad" if key in BAD else ("warn" if key in WARN else "ok")
        board.connections.append(Tile(label, counts[key], admin_list("integrations.connection", health=key), tone))

    breakers = len(open_breakers(Connection.objects.filter(status=Connection.Status.ACTIVE)))
    failing = sum(1 for s in streams if s.failing)
    stale = sum(1 for s in streams if s.stale)
    paused = sum(1 for s in streams if not s.enabled)
    board.streams = [
        Tile("Failing streams", failing, admin_list("integrations.syncschedule", health="failing"),
             "bad" if failing else "ok"),
        Tile("Freshness breaches", stale, admin_list("integrations.syncschedule", health="stale"),
             "bad" if stale else "ok"),
        Tile("Paused streams", paused, admin_list("integrations.syncschedule", health="paused"),
             "warn" if paused else "ok"),
        Tile("Open breakers", breakers, admin_list("integrations.connection", health="breaker_open"),
             "bad" if breakers else "ok"),
    ]

    # Only the backlog states are counted: the index range over them is small even with 1M processed rows.
    by_status = dict(
        WebhookEvent.objects.filter(status__in=BACKLOG).order_by().values_list("status").annotate(n=Count("pk"))
    )
    for status in BACKLOG:
        n = by_status.get(status, 0)
        tone = "muted" if not n else ("bad" if status in ("failed", "unmatched") else "warn")
        label = WebhookEvent.Status(status).label
        board.webhooks.append(Tile(label, n, admin_list("integrations.webhookevent", status__exact=status), tone))
    # One MIN per state: each is a single probe of the (status, received_at) index, where one MIN over the three
    # states scans every waiting row (210 ms with a large backlog in bench/dashboard.py).
    firsts = [WebhookEvent.objects.filter(status=state).aggregate(t=Min("received_at"))["t"] for state in WAITING]
    oldest = min((t for t in firsts if t is not None), default=None)
    board.oldest_waiting_seconds = (now - oldest).total_seconds() if oldest else None
    board.webhooks.append(Tile(
        "Oldest waiting", age_in_words(board.oldest_waiting_seconds),
        admin_list("integrations.webhookevent", status__in=",".join(WAITING), o=oldest_first()),
        "muted" if oldest is None else ("bad" if board.oldest_waiting_seconds > 600 else "ok"),
    ))

    items = ProductMapping.objects.filter(product__isnull=True, deleted_at_source=False).count()
    locations = StoreMapping.objects.filter(store__isnull=True, deleted_at_source=False).count()
    waiting = {"mapped": "no", "deleted_at_source__exact": 0}
    board.matching = [
        Tile("Items waiting for matching", items, admin_list("inventory.productmapping", **waiting),
             "warn" if items else "ok"),
        Tile("Locations waiting for matching", locations, admin_list("inventory.storemapping", **waiting),
             "warn" if locations else "ok"),
    ]
    return board
