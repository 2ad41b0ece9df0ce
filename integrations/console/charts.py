"""The dashboard's charts over the last 24 hours (hourly) or 7 days (6-hour buckets), from the hourly rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.safestring import SafeString

from . import rollups, svg

WINDOWS = {"24h": (timedelta(hours=24), 1), "7d": (timedelta(days=7), 6)}  # span, hours per bucket
OUTCOME_COLOURS = {"succeeded": "#2e7d32", "succeeded_with_errors": "#ef6c00", "failed": "#c62828",
                   "cancelled": "#9e9e9e"}


@dataclass
class Chart:
    title: str
    svg: SafeString
    total: str


def window_from(value: str | None) -> str:
    return value if value in WINDOWS else "24h"


def build(window: str = "24h", now: datetime | None = None) -> list[Chart]:
    now = now or timezone.now()
    span, per = WINDOWS[window]
    first = rollups.floor_hour(now - span + timedelta(hours=1))
    first -= timedelta(hours=first.hour % per)
    buckets = []
    b = first
    while b <= now:
        buckets.append(b)
        b += timedelta(hours=per)
    index = {b: i for i, b in enumerate(buckets)}
    fmt = "%H:00" if per == 1 else "%a %H:00"
    labels = [timezone.localtime(b).strftime(fmt) for b in buckets]
    data = rollups.hourly(first, now)

    def series(pick) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for hour, cells in data.items():
            i = index.get(hour - timedelta(hours=hour.hour % per))
            if i is None:
                continue
            for key, (count, total) in cells.items():
                picked = pick(key, count, total)
                if picked is None:
                    continue
                name, value = picked
                out.setdefault(name, [0.0] * len(buckets))[i] += value
        return dict(sorted(out.items()))

    runs = series(lambda k, c, t: (k[2], c) if k[0] == "runs" else None)
    rows = series(lambda k, c, t: (k[1], t) if k[0] == "rows" else None)
    hooks = series(lambda k, c, t: ({"webhooks_received": "received", "webhooks_processed": "processed"}[k[0]], c)
                   if k[0] in ("webhooks_received", "webhooks_processed") else None)
    lag_n = series(lambda k, c, t: ("n", c) if k[0] == "webhooks_processed" else None).get("n", [0] * len(buckets))
    lag_s = series(lambda k, c, t: ("s", t) if k[0] == "webhooks_processed" else None).get("s", [0] * len(buckets))
    lag = {"average lag (s)": [s / n if n else 0.0 for s, n in zip(lag_s, lag_n, strict=True)]}
    calls = series(lambda k, c, t: (k[1], c) if k[0] == "calls" else None)
    errors = series(lambda k, c, t: (f"{k[1]} {'429' if k[2] == '429' else 'errors'}", c)
                    if k[0] == "calls" and k[2] in ("429", "5xx", "4xx", "error") else None)

    def total(s: dict[str, list[float]]) -> str:
        return ", ".join(f"{name} {sum(v):,.0f}" for name, v in s.items()) or "none"

    charts = [
        Chart("Sync runs by outcome", svg.stacked_bars("Sync runs by outcome", labels, runs, OUTCOME_COLOURS),
              total(runs)),
        Chart("Rows ingested by syncs (created + updated)", svg.stacked_bars("Rows ingested", labels, rows),
              total(rows)),
        Chart("Webhooks received and processed", svg.lines("Webhooks", labels, hooks), total(hooks)),
        Chart("Webhook processing lag", svg.lines("Webhook lag", labels, lag),
              f"average {sum(lag_s) / sum(lag_n):.1f} s" if sum(lag_n) else "none processed"),
        Chart("Provider calls", svg.stacked_bars("Provider calls", labels, calls), total(calls)),
        Chart("Errors and 429s per provider", svg.stacked_bars("Errors and 429s", labels, errors), total(errors)),
    ]
    return charts
