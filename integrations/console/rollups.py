"""Hourly totals for the charts: closed hours are computed once and stored (``HourlyRollup``), the open hours are
computed live each time. Every query is a range scan on an indexed timestamp (runs ``finished_at``, events
``received_at`` / ``processed_at``, call log ``created_at``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncHour

from integrations.models import ApiCallLog, HourlyRollup, RolledHour, SyncRun, WebhookEvent

HOUR = timedelta(hours=1)
# Rows are stamped when written; a transaction still open this long after its hour ended is not waited for.
GRACE = timedelta(minutes=5)

Key = tuple[str, str, str]  # series, provider, label


def floor_hour(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def status_class(code: int | None) -> str:
    if code is None:
        return "error"
    if code == 429:
        return "429"
    return f"{code // 100}xx"


def compute(start: datetime, end: datetime) -> dict[datetime, dict[Key, list[float]]]:
    """hour -> {(series, provider, label): [count, total]} for rows stamped in [start, end)."""
    out: dict[datetime, dict[Key, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))

    def add(hour, key, count, total=0.0):
        cell = out[hour.astimezone(UTC)][key]
        cell[0] += count
        cell[1] += total

    runs = (
        SyncRun.objects.filter(finished_at__gte=start, finished_at__lt=end)
        .annotate(h=TruncHour("finished_at", tzinfo=UTC)).order_by()
        .values("h", "connection__provider", "status")
        .annotate(n=Count("pk"), rows=Sum(F("records_created") + F("records_updated")))
    )
    for r in runs:
        add(r["h"], ("runs", r["connection__provider"], r["status"]), r["n"])
        add(r["h"], ("rows", r["connection__provider"], ""), r["n"], float(r["rows"] or 0))
    received = (
        WebhookEvent.objects.filter(received_at__gte=start, received_at__lt=end)
        .annotate(h=TruncHour("received_at", tzinfo=UTC)).order_by()
        .values("h", "provider").annotate(n=Count("pk"))
    )
    for r in received:
        add(r["h"], ("webhooks_received", r["provider"], ""), r["n"])
    lag = ExpressionWrapper(F("processed_at") - F("received_at"), output_field=DurationField())
    processed = (
        WebhookEvent.objects.filter(processed_at__gte=start, processed_at__lt=end)
        .annotate(h=TruncHour("processed_at", tzinfo=UTC)).order_by()
        .values("h", "provider").annotate(n=Count("pk"), lag=Sum(lag))
    )
    for r in processed:
        seconds = r["lag"].total_seconds() if r["lag"] else 0.0
        add(r["h"], ("webhooks_processed", r["provider"], ""), r["n"], seconds)
    calls = (
        ApiCallLog.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(h=TruncHour("created_at", tzinfo=UTC)).order_by()
        .values("h", "provider", "status_code").annotate(n=Count("pk"))
    )
    for r in calls:
        add(r["h"], ("calls", r["provider"], status_class(r["status_code"])), r["n"])
    return out


def _missing_ranges(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    ranges: list[list[datetime]] = []
    for h in hours:
        if ranges and ranges[-1][1] == h:
            ranges[-1][1] = h + HOUR
        else:
            ranges.append([h, h + HOUR])
    return [(a, b) for a, b in ranges]


def store_closed_hours(start: datetime, now: datetime) -> tuple[datetime, int]:
    """Rolls up every closed hour from ``start`` (floored) not rolled up yet; returns where the closed hours end
    and how many hours were computed. Idempotent: concurrent callers insert the same rows (conflicts ignored)."""
    start = floor_hour(start)
    closed_until = floor_hour(now - GRACE)  # hours before this one are closed
    hours = []
    h = start
    while h < closed_until:
        hours.append(h)
        h += HOUR
    done = set(RolledHour.objects.filter(hour__gte=start, hour__lt=closed_until).values_list("hour", flat=True))
    missing = [h for h in hours if h not in done]
    for a, b in _missing_ranges(missing):
        fresh = compute(a, b)
        rows = [
            HourlyRollup(hour=hour, series=k[0], provider=k[1], label=k[2], count=v[0], total=v[1])
            for hour, cells in fresh.items() for k, v in cells.items()
        ]
        with transaction.atomic():
            HourlyRollup.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
            marks = [RolledHour(hour=x) for x in hours if a <= x < b]
            RolledHour.objects.bulk_create(marks, ignore_conflicts=True, batch_size=1000)
    return closed_until, len(missing)


def hourly(start: datetime, now: datetime) -> dict[datetime, dict[Key, list[float]]]:
    """Totals per hour from ``start`` (floored) to now: stored rollups for closed hours (computing and storing
    any not yet rolled up), live queries for the rest."""
    start = floor_hour(start)
    closed_until, _ = store_closed_hours(start, now)
    out: dict[datetime, dict[Key, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    stored = HourlyRollup.objects.filter(hour__gte=start, hour__lt=closed_until).values_list(
        "hour", "series", "provider", "label", "count", "total")
    for hour, series, provider, label, count, total in stored.iterator(chunk_size=5000):
        out[hour.astimezone(UTC)][(series, provider, label)] = [count, total]
    for hour, cells in compute(max(start, closed_until), now + timedelta(seconds=1)).items():
        for k, v in cells.items():
            out[hour][k] = v
    return out
