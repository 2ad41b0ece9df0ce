"""The dispatcher: claims due ``SyncSchedule`` rows and queues their runs.

Beat runs ``integrations.sync.dispatch_due_schedules`` every 30 s instead of one beat row per stream (beat's
database scheduler stalls with thousands of rows: django-celery-beat #454, #675, #786). Each pass claims due rows
in batches with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several dispatchers (or an overlapping
pass) split the work instead of queuing a stream twice; on SQLite the settings open every transaction with
``BEGIN IMMEDIATE``, which serializes writers, so the same code is safe there too. A claimed row's ``next_run_at``
moves forward in the same transaction, and its run is inserted with ``ON CONFLICT DO NOTHING`` against the
one-active-run index, so a stream whose previous run is still going is skipped rather than queued twice.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncSchedule

from .services import enqueue_many

_RUN_COLUMNS = ("connection_id", "stream", "created_at", "task_id", "status", "full", "trigger", "pages",
                "records_seen", "records_created", "records_updated", "records_unchanged", "records_held", "error",
                "records_refused", "refused_samples")
# The same for every run the dispatcher creates: written as literals, so a 1,000-run batch binds 4,000 parameters
# instead of 14,000.
_RUN_CONSTANTS = f"'{SyncRun.Status.QUEUED.value}', FALSE, 'schedule', 0, 0, 0, 0, 0, 0, '', 0, '[]'"


def _insert_runs(pairs: list[tuple[int, str]], now) -> list[tuple[int, int, str, str]]:
    """Queued runs for (connection, stream) pairs in one statement; pairs with an active run are skipped by the
    partial unique index. Each run gets its Celery task id up front, so sending needs no second write per run.
    Returns (run id, connection id, stream, task id) of the runs created."""
    if not pairs:
        return []
    table = db.ops.quote_name(SyncRun._meta.db_table)
    columns = ", ".join(db.ops.quote_name(c) for c in _RUN_COLUMNS)
    row = f"(%s, %s, %s, %s, {_RUN_CONSTANTS})"
    created_at = db.ops.adapt_datetimefield_value(now)
    params: list = []
    for connection_id, stream in pairs:
        params += [connection_id, stream, created_at, uuid.uuid4().hex]
    sql = (f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(pairs))} "
           f"ON CONFLICT DO NOTHING RETURNING id, connection_id, stream, task_id")
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def claim_batch(now, batch_size: int) -> tuple[list[tuple[int, int, str, str]], int]:
    """One transaction: lock up to ``batch_size`` due schedules, move them forward, insert their runs.
    Returns (runs created, schedules claimed)."""
    with transaction.atomic():
        due = (
            SyncSchedule.objects.filter(
                enabled=True, next_run_at__lte=now, connection__status=Connection.Status.ACTIVE,
                paused_at__isnull=True,  # paused after repeated failures: resumed by a test, reconnect or person
            )
            .order_by("next_run_at")
        )
        if db.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.values_list("pk", "connection_id", "stream", "interval_seconds")[:batch_size])
        if not rows:
            return [], 0
        by_interval: dict[int, list[int]] = defaultdict(list)
        for pk, _conn, _stream, interval in rows:
            by_interval[interval].append(pk)
        for interval, pks in by_interval.items():
            SyncSchedule.objects.filter(pk__in=pks).update(next_run_at=now + timedelta(seconds=interval))
        created = _insert_runs([(conn, stream) for _pk, conn, stream, _i in rows], now)
        started = {(conn, stream) for _id, conn, stream, _task in created}
        skipped = [pk for pk, conn, stream, _i in rows if (conn, stream) not in started]
        if skipped:
            SyncSchedule.objects.filter(pk__in=skipped).update(last_outcome="skipped: previous run still active")
    return created, len(rows)


def dispatch_due(
    now=None,
    *,
    batch_size: int | None = None,
    jitter_seconds: float | None = None,
    send: Callable[[list[tuple[int, str, float]]], object] | None = None,
    max_batches: int = 1000,
) -> dict:
    """Claim every due schedule (batch by batch) and send its run with a random delay of up to
    ``jitter_seconds``, so streams that fell due together (connect time, an outage) do not hit providers at once.
    ``send([(run_id, task_id, countdown), ...])`` defaults to sending the Celery messages in broker batches."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SYNC_DISPATCH_BATCH_SIZE
    jitter = settings.SYNC_DISPATCH_JITTER_SECONDS if jitter_seconds is None else jitter_seconds
    send = send or enqueue_many
    claimed = queued = 0
    for _ in range(max_batches):
        created, n = claim_batch(now, batch_size)
        claimed += n
        if created:
            send([(run_id, task_id, random.uniform(0, jitter) if jitter else 0.0)
                  for run_id, _conn, _stream, task_id in created])
        queued += len(created)
        if n < batch_size:
            break
    return {"claimed": claimed, "queued": queued}
