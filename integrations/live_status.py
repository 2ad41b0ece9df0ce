"""What the live connection page shows (and polls as JSON while syncs run): health, then per stream its state,
progress, counts, last success and last error in words. Also the portal's rate-limited "Sync now"."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from integrations.health import connection_health
from integrations.models import Connection, SyncRun
from integrations.models.sync import ACTIVE_RUN_STATES, COMPLETED_RUN_STATES


def _iso(value):
    return value.isoformat() if value else None


def stream_rows(connection: Connection) -> list[dict]:
    from integrations.sync.drift import summary as drift_summary
    from integrations.sync.failures import plain_error

    from .health import _latest_per_stream

    latest = _latest_per_stream([connection.pk])
    completed = _latest_per_stream([connection.pk], status__in=COMPLETED_RUN_STATES)
    rows = []
    for schedule in connection.schedules.order_by("stream"):
        run = latest.get((connection.pk, schedule.stream))
        done = completed.get((connection.pk, schedule.stream))
        if schedule.paused_at is not None:
            state, words = "paused", schedule.paused_reason
        elif run is None:
            state, words = "waiting", "Not synced yet"
        else:
            state, words = run.status, run.get_status_display()
        rows.append({
            "stream": schedule.stream,
            "state": state,
            "state_words": words,
            "active": bool(run and run.status in ACTIVE_RUN_STATES),
            "pages": run.pages if run else 0,
            "records_seen": run.records_seen if run else 0,
            "records_created": run.records_created if run else 0,
            "records_updated": run.records_updated if run else 0,
            "records_held": run.records_held if run else 0,
            "records_refused": run.records_refused if run else 0,
            "refused_samples": run.refused_samples if run else [],
            # The stock check's drift in words ("2 of 40 levels differed (total 9, largest 5); 2 healed").
            "drift": drift_summary(run.drift) if run else "",
            "last_success_at": _iso(done.finished_at if done else None),
            "last_error": plain_error(run.error) if run and run.status == SyncRun.Status.FAILED else "",
            "next_run_at": _iso(schedule.next_run_at) if schedule.enabled and not schedule.paused_at else None,
        })
    return rows


def live_status(connection: Connection) -> dict:
    health = connection_health(connection)
    streams = stream_rows(connection)
    return {
        "connection": connection.pk,
        "status": connection.status,
        "health": health.as_json(),
        "syncing": any(s["active"] for s in streams),
        "last_successful_sync_at": _iso(connection.last_successful_sync_at),
        "streams": streams,
    }


class SyncNowRefused(Exception):
    pass


def sync_now(connection: Connection, *, user_id: int) -> list[SyncRun]:
    """Queue every stream now (resuming paused ones): at most once per ``PORTAL_SYNC_NOW_MIN_SECONDS`` per
    connection, so a merchant clicking repeatedly does not flood the provider."""
    from integrations.sync.failures import resume
    from integrations.sync.services import request_all

    if connection.status != Connection.Status.ACTIVE:
        raise SyncNowRefused("This connection is not active: reconnect it first.")
    wait = int(getattr(settings, "PORTAL_SYNC_NOW_MIN_SECONDS", 60))
    since = timezone.now() - timedelta(seconds=wait)
    if SyncRun.objects.filter(connection=connection, trigger="manual", created_at__gte=since).exists():
        raise SyncNowRefused(f"A sync was requested less than {wait} seconds ago; it is running or done. "
                             "Try again in a minute.")
    resume(connection, trigger="manual")
    return request_all(connection, trigger="manual")
