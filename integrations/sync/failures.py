"""What happens to a stream after a run ends: recovery that needs no person.

- A run cut short by the provider being down (open breaker, 5xx/timeouts past the client's retries, rate limits)
  is retried with backoff once the breaker lets calls through again: the stream's ``next_run_at`` moves to
  ``max(retry_after, base * 2**(n-1))`` (capped), so the dispatcher queues it in minutes, not at the next slot of
  an hourly schedule. The cursor kept every committed page, so the retry resumes where the run stopped.
- After ``SYNC_PAUSE_AFTER_FAILURES`` consecutive failed runs, once the stream has been failing for at least
  ``SYNC_PAUSE_GRACE_SECONDS``, the stream is paused with a reason (as Sentry and Saleor disable failing
  integrations instead of hammering them). A successful connection test (the periodic health check probes paused
  connections), a reconnect, or a staff or merchant "Resume" un-pauses it and queues it at once.
- A run that failed on authentication after the client's forced refresh means the grant is unusable: the
  connection needs the merchant to reconnect.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncSchedule

log = logging.getLogger(__name__)


def _setting(name: str, default):
    return getattr(settings, name, default)


def is_transient(exc: BaseException | None) -> bool:
    from integrations.http.errors import ProviderRateLimited, ProviderUnavailable

    return isinstance(exc, ProviderUnavailable | ProviderRateLimited)


def is_auth(exc: BaseException | None) -> bool:
    from integrations.http.errors import ProviderAuthError

    return isinstance(exc, ProviderAuthError)


def retry_delay(failures: int, retry_after: float | None) -> float:
    base = float(_setting("SYNC_RETRY_BASE_SECONDS", 60))
    cap = float(_setting("SYNC_RETRY_MAX_SECONDS", 900))
    backoff = min(cap, base * 2 ** max(0, failures - 1))
    return max(backoff, float(retry_after or 0.0))


def after_success(run: SyncRun) -> None:
    SyncSchedule.objects.filter(connection_id=run.connection_id, stream=run.stream).update(
        consecutive_failures=0, failing_since=None
    )


def after_failure(run: SyncRun, exc: BaseException | None) -> None:
    """Count the failure, then: needs reconnect (auth), pause (too many), or retry soon (transient)."""
    now = timezone.now()
    if is_auth(exc):
        mark_needs_reconnect(run.connection_id, exc)
    schedules = SyncSchedule.objects.filter(connection_id=run.connection_id, stream=run.stream)
    schedules.filter(failing_since__isnull=True).update(failing_since=now)
    schedules.update(consecutive_failures=F("consecutive_failures") + 1)
    schedule = schedules.first()
    if schedule is None or schedule.paused_at is not None:
        return
    limit = int(_setting("SYNC_PAUSE_AFTER_FAILURES", 5))
    grace = timedelta(seconds=float(_setting("SYNC_PAUSE_GRACE_SECONDS", 600)))
    failing_for = now - (schedule.failing_since or now)
    if schedule.consecutive_failures >= limit and failing_for >= grace:
        reason = (f"Paused after {schedule.consecutive_failures} failed syncs in a row; last error: "
                  f"{plain_error(run.error)}")[:500]
        schedules.filter(paused_at__isnull=True).update(paused_at=now, paused_reason=reason)
        log.warning("paused %s / %s: %s", run.connection_id, run.stream, reason)
        return
    if is_transient(exc):
        delay = retry_delay(schedule.consecutive_failures, getattr(exc, "retry_after", None))
        retry_at = now + timedelta(seconds=delay)
        # Only ever earlier: a retry never pushes a stream past its own schedule.
        schedules.filter(next_run_at__gt=retry_at).update(next_run_at=retry_at)
        log.info("%s / %s cut short by the provider; retrying in %.0fs", run.connection_id, run.stream, delay)


def mark_needs_reconnect(connection_id: int, exc: BaseException | None) -> None:
    connection = Connection.objects.filter(pk=connection_id, status=Connection.Status.ACTIVE).first()
    if connection is None:
        return
    from integrations.providers import get_provider

    flow = get_provider(connection.provider).oauth()
    problem = flow.problem_for_dead_grant() if flow else "Access was refused by the provider: reconnect."
    Connection.objects.filter(pk=connection_id, status=Connection.Status.ACTIVE).update(
        status=Connection.Status.NEEDS_RECONNECT, problem=problem[:500], updated_at=timezone.now()
    )


def resume(connection: Connection, streams: list[str] | None = None, *, trigger: str = "manual") -> list[str]:
    """Un-pause the connection's paused streams (all, or those named) and queue them now. Returns their names."""
    from .services import request_sync

    paused = connection.schedules.filter(paused_at__isnull=False)
    if streams is not None:
        paused = paused.filter(stream__in=streams)
    names = list(paused.values_list("stream", flat=True))
    paused.update(paused_at=None, paused_reason="", consecutive_failures=0, failing_since=None,
                  next_run_at=timezone.now())
    if connection.status == Connection.Status.ACTIVE:
        for name in names:
            request_sync(connection, name, trigger=trigger)
    return names


def plain_error(error: str) -> str:
    """A run's error in words for a merchant: the message without the exception's class name."""
    if not error:
        return ""
    head, sep, rest = error.partition(": ")
    words = rest if sep and head.isidentifier() else error
    if head == "CircuitOpen":
        return "the provider kept failing, so ShelfOps paused calls to it for a moment"
    if head in ("ProviderUnavailable",):
        return f"the provider is unavailable ({words})"
    if head == "ProviderAuthError":
        return f"the provider refused ShelfOps' access ({words})"
    if head == "ProviderRateLimited":
        return "the provider asked ShelfOps to slow down"
    return words


def probe_paused() -> int:
    """For each active connection with paused streams, make the provider's cheap test call (through the client,
    so an open breaker fails it at once); a success resumes its paused streams. Returns how many were resumed."""
    from integrations.http.errors import ProviderError
    from integrations.oauth.base import TokenEndpointError
    from integrations.providers import get_provider

    ids = (SyncSchedule.objects.filter(paused_at__isnull=False, connection__status=Connection.Status.ACTIVE)
           .values_list("connection_id", flat=True).distinct())
    resumed = 0
    for connection in Connection.objects.filter(pk__in=list(ids)):
        flow = get_provider(connection.provider).oauth()
        if flow is None:
            continue
        try:
            flow.test_connection(connection)
        except (ProviderError, TokenEndpointError) as exc:
            log.info("connection %s still failing its test (%s); streams stay paused", connection.pk,
                     type(exc).__name__)
            continue
        except Exception:  # noqa: BLE001 - one connection's bug must not stop the others' probes
            log.exception("probing paused connection %s failed", connection.pk)
            continue
        resumed += len(resume(connection, trigger="recovery"))
    return resumed
