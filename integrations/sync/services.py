"""Requesting runs: used by "sync now" in admin, the ``sync`` command, webhooks and the dispatcher."""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction

from integrations.models import Connection, SyncRun
from integrations.providers import get_provider

log = logging.getLogger(__name__)

TRIGGERS = ("schedule", "manual", "connect", "webhook", "command", "recovery")


def all_stream_names(connection: Connection) -> list[str]:
    """Every stream a run can be requested for, checks (the stock reconciliation) included."""
    return list(get_provider(connection.provider).schedule_defaults)


def stream_names(connection: Connection) -> list[str]:
    """The streams that carry data, in the provider's order: what "sync now", connect and ``sync`` queue. Checks
    (``Stream.runs_with_all`` false) run on their own schedule or when asked for by name."""
    provider = get_provider(connection.provider)
    classes = provider.streams()
    return [name for name in provider.schedule_defaults if getattr(classes.get(name), "runs_with_all", True)]


def create_run(connection: Connection, stream: str, *, full: bool = False, trigger: str) -> SyncRun | None:
    """A queued run, or None when one is already queued or running for (connection, stream): the partial unique
    index ``uniq_active_run_per_stream`` decides, so two callers racing cannot both win."""
    if stream not in all_stream_names(connection):
        names = ", ".join(all_stream_names(connection))
        raise ValueError(f"{connection.provider} has no stream {stream!r}; streams: {names}")
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    try:
        with transaction.atomic():
            return SyncRun.objects.create(connection=connection, stream=stream, full=full, trigger=trigger)
    except IntegrityError:
        return None


def enqueue(run_id: int, *, countdown: float | None = None, task_id: str | None = None) -> bool:
    """Send the run to a worker under ``task_id`` (recorded on the run). A broker outage leaves the run queued
    with no task id; recovery re-sends those. Returns whether the message was sent."""
    from .tasks import run_sync

    given = task_id is not None
    task_id = task_id or uuid.uuid4().hex
    try:
        run_sync.apply_async((run_id,), countdown=countdown, task_id=task_id)
    except Exception as exc:  # noqa: BLE001 - broker down: the queued row is the durable record, resent later
        log.warning("could not enqueue sync run %s (%s); recovery will resend it", run_id, type(exc).__name__)
        SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(task_id="")
        return False
    if not given:
        SyncRun.objects.filter(pk=run_id).update(task_id=task_id)
    return True


def enqueue_many(items: list[tuple[int, str, float]], *, queue: str | None = None) -> int:
    """Send many runs' messages ((run id, task id, countdown) each) through the public ``apply_async`` over one
    shared producer, so task routing (``CELERY_TASK_ROUTES``: sync runs go to the ``syncs`` queue) applies exactly
    as for any other send; on Redis the producer's batch pipelines each transport batch into one round trip.
    ``queue`` overrides the route (benchmarks use their own queue). If a batch fails, its runs' task ids are
    cleared so recovery re-sends them (claiming is atomic, so a message that did get through is harmless).
    Returns how many were sent."""
    from shelfops.celery import app

    from .tasks import run_sync

    options = {"queue": queue} if queue else {}
    try:
        with app.producer_or_acquire() as producer, producer.batch(max_size=1000):
            for run_id, task_id, countdown in items:
                # The reprs given, not computed: saferepr of every message's args was a fifth of a large pass.
                run_sync.apply_async((run_id,), task_id=task_id, countdown=countdown, producer=producer,
                                     argsrepr=f"({run_id},)", kwargsrepr="{}", **options)
    except Exception as exc:  # noqa: BLE001 - broker down: the queued rows are the durable record, resent later
        log.warning("could not enqueue %d sync runs (%s); recovery will resend them", len(items), type(exc).__name__)
        SyncRun.objects.filter(pk__in=[i[0] for i in items], status=SyncRun.Status.QUEUED).update(task_id="")
        return 0
    return len(items)


def request_sync(connection: Connection, stream: str, *, full: bool = False, trigger: str) -> SyncRun | None:
    """Queue a run now; None when one is already active. The task is sent after the transaction commits, so a
    worker never looks for a row it cannot see yet."""
    run = create_run(connection, stream, full=full, trigger=trigger)
    if run is not None:
        transaction.on_commit(lambda: enqueue(run.pk))
    return run


def request_all(connection: Connection, *, full: bool = False, trigger: str) -> list[SyncRun]:
    """Queue every stream of the connection (in the provider's order: locations before items before levels)."""
    runs = [request_sync(connection, name, full=full, trigger=trigger) for name in stream_names(connection)]
    return [run for run in runs if run is not None]
