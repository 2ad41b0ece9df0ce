"""A known operations state for dashboard tests: one connection in each health state, a webhook backlog, unmapped
items. Returns what the dashboard should show."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone

from integrations.http.store import get_store
from integrations.models import Connection, SyncRun, SyncSchedule, WebhookEvent
from integrations.providers import get_provider
from inventory.models import Product, ProductMapping, StoreMapping


def _schedule(connection, stream, *, interval=3600, enabled=True):
    return SyncSchedule.objects.create(connection=connection, stream=stream, interval_seconds=interval,
                                       enabled=enabled, next_run_at=timezone.now())


def _run(connection, stream, status, finished_ago: timedelta, rows=0):
    run = SyncRun.objects.create(connection=connection, stream=stream, status=status, trigger="schedule",
                                 records_created=rows)
    finished = timezone.now() - finished_ago
    SyncRun.objects.filter(pk=run.pk).update(created_at=finished - timedelta(seconds=30),
                                             started_at=finished - timedelta(seconds=30), finished_at=finished)
    return run


def seed_operations(retailer, *, prefix="DASH") -> dict:
    now = timezone.now()
    made = {}

    def conn(name, status=Connection.Status.ACTIVE):
        c = Connection.objects.create(retailer=retailer, provider="square", external_account_id=f"{prefix}-{name}",
                                      status=status, connected_at=now - timedelta(days=2))
        made[name] = c
        return c

    healthy = conn("HEALTHY")
    _schedule(healthy, "orders")
    _run(healthy, "orders", "succeeded", timedelta(minutes=5), rows=7)
    _schedule(healthy, "catalog", enabled=False)  # paused

    failing = conn("FAILING")
    _schedule(failing, "orders")
    _run(failing, "orders", "succeeded", timedelta(minutes=50), rows=3)
    _run(failing, "orders", "failed", timedelta(minutes=10))
    _schedule(failing, "catalog")
    _run(failing, "catalog", "failed", timedelta(minutes=12))

    stale = conn("STALE")
    _schedule(stale, "orders", interval=600)
    _run(stale, "orders", "succeeded", timedelta(hours=3), rows=2)

    breaker = conn("BREAKER")
    _schedule(breaker, "orders")
    _run(breaker, "orders", "succeeded", timedelta(minutes=3))
    key = get_provider("square").account_key(breaker)
    store = get_store()
    store.reset(key)
    store.breaker_failure(key, now=time.time(), window=60, threshold=1)

    conn("RECONNECT", Connection.Status.NEEDS_RECONNECT)
    conn("GONE", Connection.Status.DISCONNECTED)
    conn("PENDING", Connection.Status.PENDING)

    statuses = {"received": 3, "queued": 2, "processing": 1, "failed": 1, "unmatched": 2, "processed": 4}
    n = 0
    for status, count in statuses.items():
        for _ in range(count):
            n += 1
            e = WebhookEvent.objects.create(provider="square", connection=healthy, event_id=f"{prefix}-evt-{n}",
                                            topic="order.updated", body=b"{}", status=status)
            received = now - timedelta(minutes=n)
            processed = received + timedelta(seconds=4) if status in ("processed", "failed") else None
            WebhookEvent.objects.filter(pk=e.pk).update(received_at=received, processed_at=processed)
    oldest = WebhookEvent.objects.filter(event_id=f"{prefix}-evt-1").first()
    WebhookEvent.objects.filter(pk=oldest.pk).update(received_at=now - timedelta(hours=2))

    product = Product.objects.create(retailer=retailer, name="Mapped thing", sku=f"{prefix}-SKU")
    for i, (target, deleted) in enumerate([(None, False), (None, False), (product, False), (None, True)]):
        ProductMapping.objects.create(retailer=retailer, provider="square", external_account_id=f"{prefix}-HEALTHY",
                                      external_id=f"{prefix}-item-{i}", product=target, deleted_at_source=deleted)
    StoreMapping.objects.create(retailer=retailer, provider="square", external_account_id=f"{prefix}-HEALTHY",
                                external_id=f"{prefix}-loc-1")
    made["breaker_key"] = key
    made["expected"] = {
        # Connections by issue 15's health: the open breaker counts as failing, the stale stream as degraded.
        "Healthy": 1, "Failing": 2, "Degraded": 1, "Paused": 0, "Failing streams": 2,
        "Needs reconnect": 1, "Disconnected": 1, "Connecting": 1,
        "Freshness breaches": 2, "Paused streams": 1, "Open breakers": 1,
        "Received": 3, "Queued": 2, "Processing": 1, "Failed": 1, "Unmatched (unknown account)": 2,
        "Items waiting for matching": 2, "Locations waiting for matching": 1,
    }
    return made
