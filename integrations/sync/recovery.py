"""Runs whose worker died.

A worker killed mid-run (OOM, deploy, kill -9) leaves its run ``running`` with a heartbeat that stops moving. After
``SYNC_HEARTBEAT_TIMEOUT_SECONDS`` the run is marked failed and its schedule made due now, so the next run starts
at once and resumes from the cursor of the last page committed. The engine fences every write on the run still
being ``running``, so a worker that was only slow cannot commit over its replacement.

Queued runs whose task message was never sent (the broker was down at enqueue time, so the ``task_id`` was
cleared) are re-sent; claiming is atomic, so even a duplicate message is harmless. A run still queued after
``SYNC_QUEUED_STUCK_SECONDS`` (its message lost some other way, e.g. the dispatcher died between commit and send)
is failed, which frees its stream for the next dispatch.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from integrations.models import SyncRun, SyncSchedule

from .services import enqueue

log = logging.getLogger(__name__)


def fail_stale_runs(now=None, timeout_seconds: float | None = None) -> list[int]:
    now = now or timezone.now()
    timeout = timeout_seconds if timeout_seconds is not None else settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS
    cutoff = now - timedelta(seconds=timeout)
    stale = list(
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .values_list("pk", "connection_id", "stream", "heartbeat_at")
    )
    failed = []
    for pk, connection_id, stream, heartbeat_at in stale:
        error = (f"worker lost: no heartbeat since {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC; "
                 "the next run resumes from the cursor")
        if SyncRun.objects.filter(pk=pk, status=SyncRun.Status.RUNNING, heartbeat_at=heartbeat_at).update(
            status=SyncRun.Status.FAILED, finished_at=now, error=error
        ):
            SyncSchedule.objects.filter(connection_id=connection_id, stream=stream).update(
                next_run_at=now, last_run_at=now, last_outcome="failed: worker lost, resuming"
            )
            failed.append(pk)
            log.warning("sync run %s marked failed: %s", pk, error)
    return failed


def resend_lost_queued_runs(now=None, after_seconds: float | None = None) -> list[int]:
    now = now or timezone.now()
    after = after_seconds if after_seconds is not None else settings.SYNC_QUEUED_RESEND_SECONDS
    ids = list(
        SyncRun.objects.filter(
            status=SyncRun.Status.QUEUED, task_id="", created_at__lt=now - timedelta(seconds=after)
        )
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        enqueue(pk)
    return ids


def fail_stuck_queued_runs(now=None, after_seconds: float | None = None) -> int:
    now = now or timezone.now()
    after = after_seconds if after_seconds is not None else settings.SYNC_QUEUED_STUCK_SECONDS
    return SyncRun.objects.filter(
        status=SyncRun.Status.QUEUED, created_at__lt=now - timedelta(seconds=after)
    ).update(status=SyncRun.Status.FAILED, finished_at=now,
             error=f"never picked up by a worker within {after:.0f}s; the next scheduled run replaces it")
