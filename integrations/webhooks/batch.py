"""Processing stored events many at a time: the worker side of the dispatcher's batches.

One task takes a list of event ids, locks the ones still to do (``SELECT ... FOR UPDATE SKIP LOCKED``: an event
another worker holds, or one already final, is left alone, so a redelivered or doubly sent batch processes nothing
twice), groups them by connection and the provider's batch hook (``WebhookReceiver.batch_handlers``), and runs each
group in its own savepoint: one provider fetch and one bulk ingest for the whole group. Every event still gets its own
outcome. When a group fails as a whole (ingest refused a record, a bug, a deadlock), its savepoint is rolled back and
each of its events runs its own per-event handler in its own savepoint, so one poisoned event fails alone and never
fails or retries its neighbours. Events without a batch hook run per event. The outcomes are written at the end, in
set-based statements, inside the same transaction that held the locks: an event is final exactly when what its
handler wrote is committed.

Newer-wins is ingest's (``order_updated_at`` / ``as_of`` guards, the same as one by one): a batch hook never puts two
versions of one order into the same ingest call (Square fetches each order once; Shopify ingests repeated versions
in rounds, in receipt order), so a batch ends in the state the events would have reached one by one.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from integrations.models import WebhookEvent
from shelfops.commit import relaxed_transaction
from shelfops.pg_arrays import binary_params_cursor

from .base import HandlerResult, WebhookContext
from .processing import FINAL, apply_failure, apply_result, context_for

log = logging.getLogger(__name__)
Status = WebhookEvent.Status
# The columns one attempt changes; written together, so a row's state is always one attempt's.
STATE_FIELDS = ("status", "attempts", "error", "traceback", "processed_at", "next_attempt_at", "enqueued_at")
OUTCOME_FIELDS = (*STATE_FIELDS, "outcome")


@dataclass
class BatchReport:
    """What one batch came to: final statuses by event id, and the events to try again after a delay."""

    statuses: dict[int, str] = field(default_factory=dict)
    retries: dict[int, float] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)  # locked elsewhere, already final, or gone


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


class _Batch:
    def __init__(self):
        self.now = timezone.now()
        self.report = BatchReport()
        self.done: list[WebhookEvent] = []

    def settle(self, event: WebhookEvent, outcome: HandlerResult | BaseException, tb: str | None = None) -> None:
        if isinstance(outcome, BaseException):
            retry_in = apply_failure(event, outcome, self.now, tb or _format(outcome))
            if retry_in is not None:
                self.report.retries[event.pk] = retry_in
        else:
            apply_result(event, outcome, self.now)
        self.report.statuses[event.pk] = event.status
        self.done.append(event)

    def run_one(self, ctx: WebhookContext, receiver) -> None:
        try:
            with transaction.atomic():  # savepoint: this event's writes vanish if it fails
                result = receiver.handler_for(ctx.event.topic)(ctx)
        except Exception as exc:  # noqa: BLE001 - recorded on the row
            self.settle(ctx.event, exc, traceback.format_exc())
            return
        self.settle(ctx.event, result)

    def run_groups(self, groups: dict[tuple, tuple[object, list[WebhookContext]]]) -> None:
        # In one fixed order (connection, then hook), not in order of first receipt: two batches running at once
        # then take their row locks (new mappings, levels) group by group in the same order, so neither holds one
        # group's locks while waiting for the other's (seen: a Square group and a Shopify group deadlocking on new
        # mappings in bench/webhooks.py). Groups of one flush are independent, so the order changes no outcome.
        for key in sorted(groups, key=_group_order):
            receiver, contexts = groups[key]
            self.run_group(key[1], contexts, receiver)
        groups.clear()

    def run_group(self, hook, contexts: list[WebhookContext], receiver) -> None:
        try:
            with transaction.atomic():  # savepoint: the group's writes vanish if it fails as a whole
                outcomes = hook(contexts)
                if len(outcomes) != len(contexts):
                    raise RuntimeError(f"batch hook returned {len(outcomes)} outcomes for {len(contexts)} events")
        except Exception as exc:  # noqa: BLE001 - fall back to one savepoint per event
            if _account_wide(exc) or _lock_conflict(exc):
                # The provider is down or out of budget for this account: every event of the group would meet the
                # same answer one by one, so each is retried on its own schedule without asking N more times.
                # Likewise a deadlock with another batch: the other one still waits for locks this transaction
                # holds, so running the events one by one here would deadlock again, a second each; moving on (the
                # batch commits soon) lets the other finish, and these events are retried shortly.
                for ctx in contexts:
                    self.settle(ctx.event, exc, traceback.format_exc())
                return
            log.info("webhook batch of %d %s events failed as a group (%s); processing them one by one",
                     len(contexts), receiver.provider_key, type(exc).__name__)
            for ctx in contexts:
                self.run_one(ctx, receiver)
            return
        for ctx, outcome in zip(contexts, outcomes, strict=True):
            self.settle(ctx.event, outcome)


def _group_order(key: tuple) -> tuple:
    connection_id, hook = key
    return connection_id or 0, hook.__module__, hook.__qualname__


# PostgreSQL's deadlock_detected and serialization_failure: transient, the same work succeeds once the other side ends.
_LOCK_CONFLICTS = frozenset({"40P01", "40001"})


def _lock_conflict(exc: BaseException) -> bool:
    from django.db import OperationalError

    cause = exc.__cause__
    return isinstance(exc, OperationalError) and getattr(cause, "sqlstate", None) in _LOCK_CONFLICTS


def _account_wide(exc: BaseException) -> bool:
    from integrations.http.errors import ProviderRateLimited, ProviderUnavailable

    return isinstance(exc, ProviderUnavailable | ProviderRateLimited)


# Not read by processing: left out of the locking query (a JSON column decoded per row for nothing).
_UNREAD = frozenset({"headers", "error", "traceback"})


def _lock(event_pks: Sequence[int]) -> list[WebhookEvent]:
    """Lock the given events still to do, in receipt order. Final events are left out in the query itself (their
    ids end up in ``skipped``). On PostgreSQL, one array parameter: the ORM's ``IN`` list of 100 placeholders made a
    statement the client-side cursor re-parsed on every batch."""
    final = sorted(FINAL)
    if connection.vendor != "postgresql":
        return list(
            WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .defer(*_UNREAD).filter(pk__in=list(event_pks)).exclude(status__in=final)
            .order_by("received_at", "pk")
        )
    meta = WebhookEvent._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields if f.name not in _UNREAD)
    return list(WebhookEvent.objects.raw(
        f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = ANY(%s::bigint[]) "
        f"AND NOT ({quote(meta.get_field('status').column)} = ANY(%s::text[])) "
        f"ORDER BY {quote(meta.get_field('received_at').column)}, {quote(meta.pk.column)} FOR UPDATE SKIP LOCKED",
        [list(event_pks), final],
    ))


def _attach_connections(events: list[WebhookEvent]) -> None:
    """One shared Connection per connection id, read once per batch (its encrypted fields decrypted once, not once
    per event as a join did), so a refresh after a barrier event reaches every event of that connection."""
    from integrations.models import Connection

    # order_by(): the model's default ordering follows ``retailer`` (a join to order a dict by) and was most of the
    # cost of this read for a small batch.
    connections = Connection.objects.order_by().in_bulk({e.connection_id for e in events if e.connection_id})
    for event in events:
        if event.connection_id is not None:
            # A connection deleted since the event was stored: the event fails as unmatched, as with the join.
            event.connection = connections.get(event.connection_id)


def process_batch(event_pks: Sequence[int]) -> BatchReport:
    """Process the given events (normally ``queued`` by the dispatcher) in one transaction; see the module text.

    Receipt order is kept where it can matter: an event without a batch hook (an uninstall, a catalog change, a
    compliance request) is a barrier. The groups gathered before it run first, then it, and its connection is
    read again, so the events after it see what it did (a disconnect turns them into "ignored" as one by one)."""
    # The commit need not wait for the disk: lost in a database crash, the whole batch is undone together and its
    # events are processed again (shelfops/commit.py). So a batch never queues behind the web's commits for the disk.
    with relaxed_transaction():
        locked = _lock(event_pks)
        batch = _Batch()
        seen = {e.pk for e in locked}
        # Locked by another worker, already final, or gone.
        batch.report.skipped = [pk for pk in event_pks if pk not in seen]
        _attach_connections(locked)
        groups: dict[tuple, tuple[object, list[WebhookContext]]] = {}
        for event in locked:
            event.attempts += 1
            try:
                prepared = context_for(event)
            except Exception as exc:  # noqa: BLE001 - recorded on the row
                batch.settle(event, exc, traceback.format_exc())
                continue
            if isinstance(prepared, HandlerResult):
                batch.settle(event, prepared)
                continue
            ctx, receiver = prepared
            hook = receiver.batch_handler_for(event.topic)
            if hook is not None:
                groups.setdefault((event.connection_id, hook), (receiver, []))[1].append(ctx)
                continue
            batch.run_groups(groups)
            batch.run_one(ctx, receiver)
            try:
                ctx.connection.refresh_from_db()
            except ObjectDoesNotExist:  # deleted by the handler: the events after it fail as unmatched
                for later in locked:
                    if later.connection_id == ctx.connection.pk:
                        later.connection = None
        batch.run_groups(groups)
        # processed_at says when the work was done (the commit follows at once), not when the batch began, so the
        # receipt -> processed lag staff and the bench read includes the time the batch took.
        finished = timezone.now()
        for event in batch.done:
            if event.processed_at == batch.now:
                event.processed_at = finished
        record_outcomes(batch.done)
    _recheck_skipped(batch.report)
    return batch.report


def _recheck_skipped(report: BatchReport) -> None:
    """A skipped event that is still not final gets a retry shortly, instead of waiting for the sweep's minutes.

    Skipped means locked elsewhere, and that is usually another worker processing it (then the retry finds it
    final and does nothing). But a row lock can also be held for a moment by a transaction that never returns the
    row: a claim or sweep whose ``FOR UPDATE SKIP LOCKED`` began before the row became ``queued`` locks its new
    version and drops it on the recheck, holding the lock until it commits (measured in bench/webhooks.py: 1 to
    80 events a run left ``queued`` for the sweep's 120 s). The retry is one ``process_event`` task per such event."""
    if not report.skipped:
        return
    unsettled = WebhookEvent.objects.filter(pk__in=report.skipped).exclude(status__in=sorted(FINAL))
    for pk in unsettled.values_list("pk", flat=True):
        report.retries.setdefault(pk, settings.WEBHOOK_SKIPPED_RECHECK_SECONDS)


def record_outcomes(events: list[WebhookEvent]) -> None:
    """Write every event's outcome: on PostgreSQL one ``UPDATE ... FROM unnest(<one array per column>)`` for the
    whole batch, whatever each event came to; elsewhere ``_record_outcomes_orm``."""
    if not events:
        return
    if connection.vendor != "postgresql":
        _record_outcomes_orm(events)
        return
    meta = WebhookEvent._meta
    quote = connection.ops.quote_name
    fields = [meta.pk, *(meta.get_field(name) for name in OUTCOME_FIELDS)]
    columns = [quote(f.column) for f in fields]
    arrays = ", ".join(f"%b::{f.db_type(connection).split('(')[0]}[]" for f in fields)
    sets = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    values = [[getattr(e, f.attname) for e in events] for f in fields]
    with binary_params_cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {sets} FROM unnest({arrays}) AS v({', '.join(columns)}) "
            f"WHERE t.{columns[0]} = v.{columns[0]}",
            values,
        )


def _record_outcomes_orm(events: list[WebhookEvent]) -> None:
    """Write every event's outcome set-wise: one UPDATE per set of events that share everything but their outcome
    text (a group's events: same status and times, each naming its own order), the texts as one CASE; events whose
    state is their own (a failure's traceback) go together in one ``bulk_update``."""
    shared: dict[tuple, list[WebhookEvent]] = {}
    for event in events:
        shared.setdefault(tuple(getattr(event, f) for f in STATE_FIELDS), []).append(event)
    singles = []
    for values, group in shared.items():
        if len(group) == 1:
            singles.append(group[0])
            continue
        texts = {e.outcome for e in group}
        outcome = texts.pop() if len(texts) == 1 else Case(
            *[When(pk=e.pk, then=Value(e.outcome)) for e in group], output_field=CharField())
        WebhookEvent.objects.filter(pk__in=[e.pk for e in group]).update(
            outcome=outcome, **dict(zip(STATE_FIELDS, values, strict=True)))
    if singles:
        WebhookEvent.objects.bulk_update(singles, OUTCOME_FIELDS)
