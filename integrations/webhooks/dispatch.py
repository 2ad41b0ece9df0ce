"""Handing stored events to the workers: one wake-up per burst instead of one broker message per request.

The receive path only stores the row (``received``) and wakes the dispatcher. Waking is one ``SET NX`` on a
shared flag; only the request that sets it sends a ``dispatch_received_events`` task, so a burst of deliveries
costs the web tier one broker message, not one each (a Celery publish is most of what the request did beyond
the INSERT). The dispatcher clears the flag *before* it claims rows, then claims every ``received`` row
(``FOR UPDATE SKIP LOCKED``), marks it ``queued`` and sends its processing task from the worker. Why nothing is
missed: a request that finds the flag already set committed its row before that check, and the flag is cleared
only by a dispatcher that claims afterwards; so the row is claimed by that dispatcher, or by the one a later
request wakes. The flag expires on its own (a wake-up message lost with a crashed worker delays the next one by at
most ``WEBHOOK_DISPATCH_WAKE_TTL_SECONDS``) and the periodic sweep still enqueues whatever stays ``received``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from integrations.models import WebhookEvent
from shelfops.redis_client import get_redis

log = logging.getLogger(__name__)
Status = WebhookEvent.Status
WAKE_FLAG = "shelfops:webhooks:dispatch-pending"

_fast_fail_connections: dict[tuple, object] = {}


def _fast_fail_connection():
    """A broker connection that gives up at once instead of kombu's default of retrying for the connect timeout
    (measured: 6 s against a refused port, over Shopify's 5 s limit). Its producer pool is kombu's, keyed by the
    connection's URL and options, so it is built once per process and reused."""
    from shelfops.celery import app

    options = dict(app.conf.broker_transport_options or {})
    options["max_retries"] = 0
    if str(app.conf.broker_url).startswith(("redis://", "rediss://")):
        options.setdefault("socket_connect_timeout", 1.0)
    key = (str(app.conf.broker_url), repr(sorted(options.items())))
    if key not in _fast_fail_connections:
        _fast_fail_connections[key] = app.connection_for_write(transport_options=options)
    return _fast_fail_connections[key]


def _send(task, args: list) -> None:
    from kombu import pools

    with pools.producers[_fast_fail_connection()].acquire(block=True, timeout=1.0) as producer:
        task.apply_async(args=args, retry=False, producer=producer)


def _set_flag() -> bool:
    """SET NX with expiry; True when this call set it. Redis when configured, else the (shared, file-based) cache."""
    ttl = settings.WEBHOOK_DISPATCH_WAKE_TTL_SECONDS
    if settings.REDIS_URL:
        return bool(get_redis().set(WAKE_FLAG, 1, nx=True, ex=ttl))
    return cache.add(WAKE_FLAG, 1, timeout=ttl)


def clear_wake_flag() -> None:
    """Forget a pending wake-up (its message is gone: a purged queue); the next delivery wakes a dispatcher."""
    if settings.REDIS_URL:
        get_redis().delete(WAKE_FLAG)
    else:
        cache.delete(WAKE_FLAG)


def wake_dispatcher() -> bool:
    """After a row was stored ``received``: make sure a dispatcher will run. Never raises (the request must still
    be answered 200; the row waits for the sweep). Returns whether this call sent the wake-up."""
    from .tasks import dispatch_received_events

    try:
        if not _set_flag():
            return False  # a dispatcher is already due; it claims after clearing the flag, so it sees our row
    except Exception as exc:  # noqa: BLE001 - no flag store: wake anyway, a spare dispatcher finds nothing
        log.warning("webhook wake flag unavailable (%s); waking the dispatcher unconditionally", type(exc).__name__)
    try:
        _send(dispatch_received_events, [])
    except Exception as exc:  # noqa: BLE001 - any broker failure means the same here: the sweep will do it
        log.warning("broker unavailable, stored webhook events left for the sweep (%s)", type(exc).__name__)
        try:
            clear_wake_flag()  # so the next delivery tries the broker again instead of waiting for the TTL
        except Exception:  # noqa: BLE001, S110 - the flag expires by itself
            pass
        return False
    return True


# pg_advisory_xact_lock key of the claim (any 64-bit number no other lock of the portal uses: "SOWHCLM" in hex).
CLAIM_LOCK_KEY = 0x534F5748434C4D


def serialize_claims() -> None:
    """Inside the claiming transaction: wait for any other claim (or sweep) to commit first, on PostgreSQL.

    Two claims running at once are correct, but the later one's ``FOR UPDATE SKIP LOCKED`` read can start before
    the earlier commits, meet a row that has just become ``queued``, lock its new version, drop it on the recheck
    and keep that lock until it commits. The batch that then processes the row skips it as "locked elsewhere".
    Taken in turn, every claim reads after the previous one committed and never touches a queued row. A claim is
    two short statements, so the wait is a millisecond or two."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK_KEY])


def claim_received(limit: int) -> list[int]:
    """Take up to ``limit`` ``received`` rows (oldest first) and mark them ``queued``; returns their ids.
    SKIP LOCKED: two dispatchers (or a dispatcher and the sweep) never claim the same row."""
    now = timezone.now()
    with transaction.atomic():
        serialize_claims()
        pks = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(status=Status.RECEIVED)
            .order_by("received_at")
            .values_list("pk", flat=True)[:limit]
        )
        if pks:
            WebhookEvent.objects.filter(pk__in=pks).update(status=Status.QUEUED, enqueued_at=now)
    return pks


def dispatch_received(batch: int | None = None) -> int:
    """The dispatcher: clear the wake flag, then claim and send every ``received`` row, batch by batch."""
    return claim_and_send(batch)[0]


def claim_and_send(batch: int | None = None, *, keep: int = 0) -> tuple[int, list[int]]:
    """``dispatch_received``, except that the last claim, when it holds at most ``keep`` rows, is not sent but
    returned (claimed, ``queued``) for the caller to process itself: the dispatcher task does so, which saves a
    broker round trip and a task per small batch (most of them, at a steady rate). Returns (rows sent, rows kept).
    A kept row whose processing dies with its worker is re-sent by the sweep, as a lost message is."""
    try:
        clear_wake_flag()
    except Exception as exc:  # noqa: BLE001 - without the flag, wakes are unconditional; claiming still works
        log.warning("webhook wake flag unavailable (%s)", type(exc).__name__)
    batch = batch or settings.WEBHOOK_DISPATCH_BATCH
    sent = 0
    while True:
        pks = claim_received(batch)
        if len(pks) < batch and 0 < len(pks) <= keep:
            return sent, pks
        sent += publish(pks)
        if len(pks) < batch:
            return sent, []


def publish(pks: Sequence[int]) -> int:
    """Send (already ``queued``) rows to the workers, ``WEBHOOK_PROCESS_BATCH`` ids per ``process_batch`` task,
    over one producer. Rows whose message could not be sent go back to ``received`` for the next dispatcher or the
    sweep. Returns how many rows were sent."""
    from kombu import pools

    from .tasks import process_webhook_batch

    sent = 0
    if not pks:
        return 0
    size = max(1, settings.WEBHOOK_PROCESS_BATCH)
    try:
        with pools.producers[_fast_fail_connection()].acquire(block=True, timeout=1.0) as producer:
            for start in range(0, len(pks), size):
                chunk = list(pks[start : start + size])
                process_webhook_batch.apply_async(args=[chunk], retry=False, producer=producer)
                sent += len(chunk)
    except Exception as exc:  # noqa: BLE001 - the rows are kept; only their hand-off is postponed
        unsent = list(pks[sent:])
        log.warning("broker unavailable, %d webhook events left for the sweep (%s)", len(unsent), type(exc).__name__)
        WebhookEvent.objects.filter(pk__in=unsent, status=Status.QUEUED).update(
            status=Status.RECEIVED, enqueued_at=None
        )
    return sent


def send_retries(delays: dict[int, float]) -> int:
    """After a batch: send each event to be tried again as its own delayed ``process_event`` task. A message that
    cannot be sent is not lost: the row stays ``queued`` with its ``next_attempt_at`` and the sweep sends it."""
    from kombu import pools

    from .tasks import process_webhook_event

    sent = 0
    if not delays:
        return 0
    try:
        with pools.producers[_fast_fail_connection()].acquire(block=True, timeout=1.0) as producer:
            for pk, countdown in delays.items():
                process_webhook_event.apply_async(args=[pk], countdown=countdown, retry=False, producer=producer)
                sent += 1
    except Exception as exc:  # noqa: BLE001 - the sweep picks up retries whose message was lost
        log.warning("broker unavailable, %d webhook retries left for the sweep (%s)", len(delays) - sent,
                    type(exc).__name__)
    return sent


def enqueue(event_pk: int) -> bool:
    """Send one row's processing task now (replay and sweep; the row is already ``queued``)."""
    return publish([event_pk]) == 1
