"""Executes one ``SyncRun``: claim it, read pages from the stream, ingest each page and save the cursor and the
run's counts in the same transaction, then finish.

Fencing: every write of a run is conditional on the run still being ``running`` and the cursor still having the
version this run last wrote. A worker that was declared dead by ``recovery`` (no heartbeat) but is in fact still
alive therefore cannot commit another page over the run that replaced it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from functools import partial

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.console.logs import bind, log_context
from integrations.models import Connection, SyncCursor, SyncRun, SyncSchedule
from integrations.models.sync import ACTIVE_RUN_STATES, COMPLETED_RUN_STATES
from integrations.providers import get_provider
from inventory.records import IngestCounts, Source
from shelfops.commit import relaxed_transaction

from .drift import summary as drift_summary
from .prefetch import prefetched
from .streams import Page, Stream
from .tuning import run_tuning

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_SECONDS = 5.0
ERROR_MAX_CHARS = 2000
REFUSED_SAMPLES = 5  # refused records kept on the run (the count says how many more)
class SyncRefused(Exception):
    """The run cannot start (connection not active, unknown stream); recorded on the run."""


class RunFenced(Exception):
    """This worker no longer owns the run or the cursor (it was declared dead, or another run moved on)."""


class UnknownStream(ValueError):
    pass


def stream_classes(provider_key: str) -> dict[str, type[Stream]]:
    return get_provider(provider_key).streams()


def build_stream(connection: Connection, name: str, *, client=None, heartbeat=None) -> Stream:
    classes = stream_classes(connection.provider)
    if name not in classes:
        raise UnknownStream(f"{connection.provider} has no stream {name!r} (streams: {', '.join(sorted(classes))})")
    if client is None:
        from integrations.http import client_for

        client = client_for(connection)
    return classes[name](connection, client, heartbeat=heartbeat)


def ingest_for(record_kind: str) -> Callable:
    # Imported at call time: inventory.ingest is shared with webhooks and owns mapping resolution.
    from inventory import ingest

    return {
        "locations": ingest.ingest_locations,
        "items": ingest.ingest_items,
        "stock": ingest.ingest_stock,
        # Deleted items/locations named by id only (NetSuite's deleted records).
        "deletions": ingest.ingest_deletions,
        # A synced order always carries all its lines, so lines missing from it were removed by an edit.
        "sales": partial(ingest.ingest_sales, replace_orders=True),
    }[record_kind]


def prepare_for(record_kind: str) -> Callable | None:
    """The part of a kind's ingest that needs no database, if it has one: run on the prefetch thread, so it
    overlaps the previous page's writes instead of adding to them (sales: checks and deduplication, ~10% of a
    Square orders page's time on the ingesting thread)."""
    from inventory import ingest

    return {"sales": partial(ingest.prepare_sales, replace_orders=True)}.get(record_kind)


def with_prepared(pages: Iterator[Page], prepare: Callable | None) -> Iterator[Page]:
    if prepare is None:
        yield from pages
        return
    try:
        for page in pages:
            if page.records:
                page.prepared = prepare(page.records)
            yield page
    finally:
        getattr(pages, "close", lambda: None)()


def source_for(connection: Connection) -> Source:
    return Source(
        retailer_id=connection.retailer_id,
        provider=connection.provider,
        external_account_id=connection.external_account_id,
    )


def describe(exc: BaseException) -> str:
    """An error for the run row: type and message only (provider errors are redacted by the HTTP client)."""
    text = f"{type(exc).__name__}: {exc}"
    return text[:ERROR_MAX_CHARS]


def waiting_for(run_id: int) -> list[str]:
    """The required streams (``Stream.requires``) of a queued run that are still active for its connection.
    Shopify inventory levels name items by inventory item id, which only the variants stream maps; run both at
    once and ingest may see levels before their variants."""
    run = SyncRun.objects.select_related("connection").filter(pk=run_id, status=SyncRun.Status.QUEUED).first()
    if run is None:
        return []
    cls = stream_classes(run.connection.provider).get(run.stream)
    if cls is None or not cls.requires:
        return []
    return sorted(set(SyncRun.objects.filter(
        connection_id=run.connection_id, stream__in=cls.requires, status__in=ACTIVE_RUN_STATES
    ).values_list("stream", flat=True)))


def claim(run_id: int) -> SyncRun | None:
    """queued -> running, atomically: a redelivered or duplicated task message finds nothing to claim."""
    now = timezone.now()
    if not SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    ):
        return None
    return SyncRun.objects.select_related("connection").get(pk=run_id)


class RunExecutor:
    def __init__(self, run: SyncRun, *, client=None, progress: Callable[[SyncRun, Page], None] | None = None):
        self.run = run
        self.client = client
        self.progress = progress
        self._last_beat = time.monotonic()

    # --- fenced writes ------------------------------------------------------------------------------------
    def _owned(self):
        return SyncRun.objects.filter(pk=self.run.pk, status=SyncRun.Status.RUNNING)

    def heartbeat(self, force: bool = False) -> None:
        """Called by streams while they wait (bulk operations, rate-limit pauses) so recovery sees us alive."""
        if not force and time.monotonic() - self._last_beat < HEARTBEAT_EVERY_SECONDS:
            return
        self._last_beat = time.monotonic()
        if not self._owned().update(heartbeat_at=timezone.now()):
            raise RunFenced("the run was declared dead by stale-run recovery")

    def _save_cursor(self, cursor_row: SyncCursor, value: dict) -> None:
        if not SyncCursor.objects.filter(pk=cursor_row.pk, version=cursor_row.version).update(
            value=value, version=F("version") + 1, updated_at=timezone.now()
        ):
            raise RunFenced("the cursor was moved by another run")
        cursor_row.version += 1
        cursor_row.value = value

    def _commit_page(self, cursor_row: SyncCursor, ingest: Callable, source: Source, page: Page) -> None:
        run = self.run
        # This page's COMMIT does not wait for its WAL flush (shelfops/commit.py). Safe here: the page's rows and
        # the cursor past them commit together, so a crash loses both or neither; the next run then reads the page
        # again from the provider, which stays the source of truth.
        with relaxed_transaction():
            records = page.records if page.prepared is None else page.prepared
            counts = ingest(source, records) if page.records else IngestCounts()
            if page.cursor is not None:
                self._save_cursor(cursor_row, page.cursor)
            run.pages += 1
            run.records_seen += len(page.records)
            run.records_created += counts.created
            run.records_updated += counts.updated
            run.records_unchanged += counts.unchanged
            run.records_held += counts.held
            refused = refused_count(counts)
            if refused:
                run.records_refused += refused
                room = REFUSED_SAMPLES - len(run.refused_samples)
                if room > 0:
                    run.refused_samples = [*run.refused_samples, *counts.errors[:room]]
            run.heartbeat_at = timezone.now()
            if page.cursor is not None:
                run.cursor_after = page.cursor
            if page.drift is not None:
                run.drift = page.drift
            if not self._owned().update(
                pages=run.pages, records_seen=run.records_seen, records_created=run.records_created,
                records_updated=run.records_updated, records_unchanged=run.records_unchanged,
                records_held=run.records_held, heartbeat_at=run.heartbeat_at, cursor_after=run.cursor_after,
                records_refused=run.records_refused, refused_samples=run.refused_samples, drift=run.drift,
            ):
                raise RunFenced("the run was declared dead by stale-run recovery")
        self._last_beat = time.monotonic()
        if counts.errors:
            log.warning("sync run %s: ingest reported %d errors, first: %s", run.pk, len(counts.errors),
                        counts.errors[0])

    # --- the run ------------------------------------------------------------------------------------------
    def execute(self) -> None:
        run = self.run
        connection = run.connection
        if connection.status != Connection.Status.ACTIVE:
            raise SyncRefused(f"connection is {connection.get_status_display().lower()}, not active")
        cursor_row, _ = SyncCursor.objects.get_or_create(connection=connection, stream=run.stream)
        run.cursor_before = cursor_row.value or None
        SyncRun.objects.filter(pk=run.pk).update(cursor_before=run.cursor_before)
        stream = build_stream(connection, run.stream, client=self.client, heartbeat=self.heartbeat)
        ingest = ingest_for(stream.record_kind)
        source = source_for(connection)
        start = None if run.full else (cursor_row.value or None)
        # SQLite has one writer at a time: a fetching thread's call-log write would only queue behind the ingest.
        depth = getattr(settings, "SYNC_PREFETCH_PAGES", 0) if db.vendor == "postgresql" else 0
        pages = with_prepared(stream.pages(start, full=run.full), prepare_for(stream.record_kind))
        for page in prefetched(pages, depth):
            self._commit_page(cursor_row, ingest, source, page)
            if self.progress:
                self.progress(run, page)


def refused_count(counts: IngestCounts) -> int:
    """Records ingest refused on one page. Ingest lists up to 100 per call and then one "more bad records
    skipped" line; a page never holds that many bad records in practice, and if it does the run still ends
    "succeeded with errors" with the samples, only the count is then a lower bound."""
    return sum(1 for e in counts.errors if not e.startswith("more bad records skipped"))


def finish(run: SyncRun, status: str, error: str = "", exc: BaseException | None = None) -> None:
    from . import failures

    now = timezone.now()
    if status == SyncRun.Status.SUCCEEDED and run.records_refused:
        status = SyncRun.Status.SUCCEEDED_WITH_ERRORS
        error = f"{run.records_refused} record(s) refused; first: {'; '.join(run.refused_samples[:2])}"
        error = error[:ERROR_MAX_CHARS]
    # The outcome and what it means for the stream (failure count, retry time, pause) commit together, so no
    # reader ever sees a failed run whose stream has not counted it yet.
    with transaction.atomic():
        updated = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
            status=status, finished_at=now, error=error
        )
        if not updated:
            return  # fenced: recovery already recorded an outcome for this run
        run.status, run.finished_at, run.error = status, now, error
        if status in COMPLETED_RUN_STATES:
            outcome = f"{status}: {run.records_seen} records, {run.records_created} new, {run.records_updated} updated"
            if run.records_refused:
                outcome += f", {run.records_refused} refused"
            if run.drift is not None:
                outcome = f"{status}: {drift_summary(run.drift)}"
            Connection.objects.filter(pk=run.connection_id).update(last_successful_sync_at=now)
        else:
            outcome = f"{status}: {error}"
        SyncSchedule.objects.filter(connection_id=run.connection_id, stream=run.stream).update(
            last_run_at=now, last_outcome=outcome[:255]
        )
        try:
            with transaction.atomic():  # a savepoint: a follow-up that fails never undoes the recorded outcome
                if status in COMPLETED_RUN_STATES:
                    failures.after_success(run)
                elif status == SyncRun.Status.FAILED and not isinstance(exc, SyncRefused):
                    failures.after_failure(run, exc)
        except Exception:  # noqa: BLE001 - the run's outcome is recorded; the periodic health check catches up
            log.exception("sync run %s: follow-up (retry/pause) failed", run.pk)
    try:
        from integrations.health import refresh_health

        refresh_health(run.connection_id)
    except Exception:  # noqa: BLE001 - the periodic health check catches up
        log.exception("sync run %s: health refresh failed", run.pk)


def execute(run_id: int, *, client=None, progress=None) -> SyncRun | None:
    """Run one queued SyncRun to completion in this process. Returns None if it was not queued."""
    with log_context(run_id=run_id, connection_id=None, stream=None):  # on every log line of the run
        return _execute(run_id, client=client, progress=progress)


def _execute(run_id: int, *, client, progress) -> SyncRun | None:
    run = claim(run_id)
    if run is None:
        log.info("sync run %s is not queued any more; nothing to do", run_id)
        return None
    bind(connection_id=run.connection_id, stream=run.stream)
    try:
        with run_tuning():
            RunExecutor(run, client=client, progress=progress).execute()
    except RunFenced as exc:
        log.warning("sync run %s stopped: %s", run.pk, exc)
        run.refresh_from_db()
        return run
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run; the cursor keeps the last page
        log.warning("sync run %s (%s/%s) failed: %s", run.pk, run.connection, run.stream, describe(exc))
        finish(run, SyncRun.Status.FAILED, describe(exc), exc)
        return run
    finish(run, SyncRun.Status.SUCCEEDED)
    return run
