"""``GET /metrics``: a Prometheus collector that reads the database and Redis at scrape time.

Why a collector and not in-process counters: web runs as several gunicorn workers and the work happens in Celery
processes, so per-process counters would each see a slice (multiprocess mode needs a shared directory and careful
cleanup). The database already records every webhook, run and provider call, so any one process can answer for
all of them; scrape cost is a handful of grouped queries.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db.models import Count, F, IntegerField, Min, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from integrations.models import ApiCallLog, Connection, SyncRun, WebhookEvent

from .health_states import breaker_states, connection_states

log = logging.getLogger("shelfops.console")

QUEUES = ("webhooks", "syncs", "maintenance", "celery")  # issue 16's queues, and Celery's default
LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
BREAKER_VALUE = {"closed": 0, "half_open": 1, "open": 2}
WAITING = ("received", "queued", "processing")
LAG_WINDOW_SECONDS = 300


class ShelfOpsCollector(Collector):
    def collect(self):
        yield from self._webhooks()
        yield from self._syncs()
        yield from self._provider_calls()
        yield from self._connections()
        yield from self._queues()

    def _webhooks(self):
        events = GaugeMetricFamily("shelfops_webhook_events", "Stored webhook events by provider, topic and status.",
                                   labels=["provider", "topic", "status"])
        for r in WebhookEvent.objects.order_by().values("provider", "topic", "status").annotate(n=Count("pk")):
            events.add_metric([r["provider"], r["topic"], r["status"]], r["n"])
        yield events
        now = timezone.now()
        oldest = GaugeMetricFamily("shelfops_webhook_oldest_waiting_seconds",
                                   "Age of the oldest event not yet processed (0 when none wait).", labels=["provider"])
        for r in WebhookEvent.objects.filter(status__in=WAITING).order_by().values("provider").annotate(
                t=Min("received_at")):
            oldest.add_metric([r["provider"]], (now - r["t"]).total_seconds())
        yield oldest
        lag = GaugeMetricFamily("shelfops_webhook_processing_lag_seconds",
                                f"Average receive-to-processed time of events processed in the last "
                                f"{LAG_WINDOW_SECONDS}s.", labels=["provider"])
        since = now - timezone.timedelta(seconds=LAG_WINDOW_SECONDS)
        rows = (WebhookEvent.objects.filter(processed_at__gte=since).order_by().values("provider")
                .annotate(n=Count("pk"), lag=Sum(F("processed_at") - F("received_at"))))
        for r in rows:
            lag.add_metric([r["provider"]], r["lag"].total_seconds() / r["n"] if r["n"] and r["lag"] else 0.0)
        yield lag

    def _syncs(self):
        runs = GaugeMetricFamily("shelfops_sync_runs", "Sync runs by provider, stream and status.",
                                 labels=["provider", "stream", "status"])
        rows_total = CounterMetricFamily("shelfops_sync_records", "Records ingested by sync runs, by outcome.",
                                         labels=["provider", "stream", "outcome"])
        qs = (SyncRun.objects.order_by().values("connection__provider", "stream", "status")
              .annotate(n=Count("pk"), created=Sum("records_created"), updated=Sum("records_updated"),
                        unchanged=Sum("records_unchanged"), held=Sum("records_held")))
        totals: dict[tuple[str, str, str], int] = {}
        for r in qs:
            key = (r["connection__provider"], r["stream"])
            runs.add_metric([*key, r["status"]], r["n"])
            for outcome in ("created", "updated", "unchanged", "held"):
                totals[(*key, outcome)] = totals.get((*key, outcome), 0) + (r[outcome] or 0)
        for labels, value in sorted(totals.items()):
            rows_total.add_metric(list(labels), value)
        yield runs
        yield rows_total
        yield self._stock_drift()

    @staticmethod
    def _stock_drift():
        """Summed from the stock checks' drift reports (``SyncRun.drift``), so every process answers the same."""
        drift = CounterMetricFamily(
            "shelfops_stock_drift_items", "Stock levels the stock check (reconcile_stock) found differing from the "
            "provider's snapshot (drifted) or missing on either side, summed over its runs.",
            labels=["provider", "kind"])
        kinds = ("drifted", "missing_here", "missing_at_provider")
        rows = (SyncRun.objects.filter(drift__isnull=False).order_by().values("connection__provider")
                .annotate(**{k: Sum(Cast(KT(f"drift__{k}"), IntegerField())) for k in kinds}))
        for r in rows:
            for kind in kinds:
                drift.add_metric([r["connection__provider"], kind], r[kind] or 0)
        return drift

    def _provider_calls(self):
        calls = CounterMetricFamily("shelfops_provider_calls", "Provider HTTP calls (each attempt) by status "
                                    "(\"error\": no answer), from the call log.", labels=["provider", "status"])
        limited = CounterMetricFamily("shelfops_provider_rate_limited", "Provider answers with HTTP 429.",
                                      labels=["provider"])
        for r in ApiCallLog.objects.order_by().values("provider", "status_code").annotate(n=Count("pk")):
            calls.add_metric([r["provider"], str(r["status_code"] or "error")], r["n"])
            if r["status_code"] == 429:
                limited.add_metric([r["provider"]], r["n"])
        yield calls
        yield limited
        latency = HistogramMetricFamily("shelfops_provider_call_duration_seconds", "Provider call latency.",
                                        labels=["provider"])
        aggregates = {f"le{b}": Count("pk", filter=Q(duration_ms__lte=b)) for b in LATENCY_BUCKETS_MS}
        for r in ApiCallLog.objects.order_by().values("provider").annotate(
                n=Count("pk"), total=Sum("duration_ms"), **aggregates):
            buckets = [(str(b / 1000), r[f"le{b}"]) for b in LATENCY_BUCKETS_MS] + [("+Inf", r["n"])]
            latency.add_metric([r["provider"]], buckets, (r["total"] or 0) / 1000)
        yield latency

    def _connections(self):
        connections = list(Connection.objects.only("pk", "provider", "external_account_id", "status",
                                                   "refresh_failures"))
        states = connection_states()
        by_state = GaugeMetricFamily("shelfops_connections", "Connections by provider and health state.",
                                     labels=["provider", "health"])
        counts: dict[tuple[str, str], int] = {}
        failures = GaugeMetricFamily("shelfops_token_refresh_failures",
                                     "Consecutive token refresh failures, summed per provider.", labels=["provider"])
        failed: dict[str, int] = {}
        breakers = GaugeMetricFamily("shelfops_circuit_breaker_state",
                                     "Circuit breaker per active connection: 0 closed, 1 half-open, 2 open.",
                                     labels=["provider", "connection"])
        breakers_by_id = breaker_states([c for c in connections if c.status == Connection.Status.ACTIVE])
        for c in connections:
            key = (c.provider, states.get(c.pk, c.status))
            counts[key] = counts.get(key, 0) + 1
            failed[c.provider] = failed.get(c.provider, 0) + c.refresh_failures
            if c.pk in breakers_by_id:
                breakers.add_metric([c.provider, str(c.pk)], BREAKER_VALUE.get(breakers_by_id[c.pk], 0))
        for labels, n in sorted(counts.items()):
            by_state.add_metric(list(labels), n)
        for provider, n in sorted(failed.items()):
            failures.add_metric([provider], n)
        yield by_state
        yield failures
        yield breakers

    def _queues(self):
        depth = GaugeMetricFamily("shelfops_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        url = settings.CELERY_BROKER_URL
        if url == "filesystem://":
            # kombu's file-system transport (the embedded default): one "<id>.<queue>.msg" file per message.
            folder = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("data_folder_in")
            counts = dict.fromkeys(QUEUES, 0)
            try:
                for entry in os.scandir(folder):
                    queue = entry.name.rsplit(".", 2)[-2] if entry.name.endswith(".msg") else None
                    if queue in counts:
                        counts[queue] += 1
            except (OSError, TypeError):
                log.warning("queue depths unreadable", exc_info=True)
            for name, n in counts.items():
                depth.add_metric([name], n)
        elif url.startswith(("redis://", "rediss://")):
            import redis

            try:
                client = redis.Redis.from_url(url, socket_timeout=2)
                for name in QUEUES:
                    depth.add_metric([name], client.llen(name))
            except redis.RedisError:
                log.warning("queue depths unreadable", exc_info=True)
        yield depth


registry = CollectorRegistry(auto_describe=False)
registry.register(ShelfOpsCollector())
