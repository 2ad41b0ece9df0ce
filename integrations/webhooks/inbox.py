"""The receiving side of the inbox: resolve the connection, store the delivery exactly once, wake the dispatcher.

Storing comes before acknowledging, and the dispatcher is woken only after the row is committed (``dispatch.py``):
if the broker is down the row stays ``received`` and the periodic sweep enqueues it later, so an acknowledged
event is never lost.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import F
from django.utils import timezone

from integrations.models import Connection, WebhookEvent, WebhookRejection

from .base import WebhookReceiver
from .dispatch import wake_dispatcher

log = logging.getLogger(__name__)
Status = WebhookEvent.Status

# (provider, account id) -> (expires at, connection id). Only hits are cached, so a newly connected account is
# matched on its first event; a short life keeps a moved account from being routed to the old row for long.
_CONNECTION_TTL_SECONDS = 30.0
_connection_cache: dict[tuple[str, str], tuple[float, int]] = {}


def clear_connection_cache() -> None:
    _connection_cache.clear()


def resolve_connection_id(provider: str, account_id: str) -> int | None:
    if not account_id:
        return None
    key = (provider, account_id)
    now = time.monotonic()
    hit = _connection_cache.get(key)
    if hit and hit[0] > now:
        return hit[1]
    connection_id = (
        Connection.objects.filter(provider=provider, external_account_id=account_id)
        .values_list("id", flat=True)
        .first()
    )
    if connection_id is not None:
        _connection_cache[key] = (now + _CONNECTION_TTL_SECONDS, connection_id)
    return connection_id


def parse_json(raw_body: bytes):
    """The parsed body and an error text (empty when it parsed)."""
    try:
        return json.loads(raw_body), ""
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        return None, f"malformed JSON: {exc}"


@dataclass(frozen=True)
class StoredDelivery:
    event_id: str
    status: str
    duplicate: bool


_INSERT_FIELDS = [f for f in WebhookEvent._meta.concrete_fields if not f.primary_key]


def _insert_once(event: WebhookEvent) -> bool:
    """``INSERT ... ON CONFLICT (provider, event_id) DO NOTHING RETURNING id``; False for a duplicate.

    One statement whatever the outcome: the ORM's ``create()`` raises IntegrityError on a duplicate and needs a
    second query to tell a duplicate from another failure, and its save machinery was a third of the request's
    own CPU. The model's fields still prepare every value (defaults, ``auto_now_add``, JSON, bytes), so the row is
    what ``create()`` would have stored, on PostgreSQL and SQLite alike."""
    quote = db_connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(event, add=True), db_connection) for f in _INSERT_FIELDS]
    sql = (
        f"INSERT INTO {quote(WebhookEvent._meta.db_table)} ({', '.join(quote(f.column) for f in _INSERT_FIELDS)}) "
        f"VALUES ({', '.join(['%s'] * len(values))}) ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk = row[0]
    event._state.adding = False
    return True


def store_delivery(receiver: WebhookReceiver, raw_body: bytes, headers) -> StoredDelivery:
    """Store a verified delivery. A repeat of a stored event id changes nothing."""
    payload, parse_error = parse_json(raw_body)
    envelope = receiver.envelope(raw_body, payload, headers)
    parse_error = parse_error or envelope.parse_error
    provider = receiver.provider_key
    fields = {
        "provider": provider,
        "external_account_id": envelope.account_id[:255],
        "event_id": envelope.event_id[:255],
        "topic": envelope.topic[:128],
        "headers": receiver.storable_headers(headers),
        "body": raw_body,
    }
    for attempt in range(2):
        connection_id = resolve_connection_id(provider, envelope.account_id)
        now = timezone.now()
        if parse_error:
            # Answered 200 all the same: the provider would retry a broken body for days otherwise.
            state = {"status": Status.FAILED, "error": parse_error, "processed_at": now}
        elif connection_id is None:
            state = {"status": Status.UNMATCHED, "outcome": "no connection for this account"}
        elif receiver.handler_for(envelope.topic) is None:
            state = {"status": Status.IGNORED, "outcome": "topic not used by the portal", "processed_at": now}
        else:
            # Stored "received"; the dispatcher woken after commit marks it "queued" when it sends the task.
            state = {"status": Status.RECEIVED}
        event = WebhookEvent(connection_id=connection_id, **fields, **state)
        # In autocommit (the normal request) the INSERT is its own transaction: one round trip and one WAL flush,
        # and on_commit runs right after it. Inside a caller's transaction a savepoint keeps an IntegrityError
        # (a connection deleted since it was cached) from breaking it.
        guard = transaction.atomic() if db_connection.in_atomic_block else nullcontext()
        try:
            with guard:
                stored = _insert_once(event)
                if stored and event.status == Status.RECEIVED:
                    transaction.on_commit(wake_dispatcher)
        except IntegrityError:
            if attempt:
                raise
            # The cached connection was deleted meanwhile (its foreign key failed). Resolve again.
            clear_connection_cache()
            continue
        if not stored:
            return StoredDelivery(fields["event_id"], "duplicate", duplicate=True)
        return StoredDelivery(event.event_id, event.status, duplicate=False)
    raise AssertionError("unreachable")


def record_rejection(provider: str, reason: str, *, headers: dict[str, str], raw_body: bytes, remote_addr: str):
    """Count a refused delivery and keep the first few of the day as samples (never the signature itself)."""
    today = timezone.localdate()
    key = {"provider": provider, "reason": reason, "day": today}
    if not WebhookRejection.objects.filter(**key).update(count=F("count") + 1, last_seen_at=timezone.now()):
        try:
            with transaction.atomic():
                WebhookRejection.objects.create(**key, count=1)
        except IntegrityError:  # a concurrent first rejection of the day created it
            WebhookRejection.objects.filter(**key).update(count=F("count") + 1, last_seen_at=timezone.now())
    limit = settings.WEBHOOK_REJECTION_SAMPLES
    if limit <= 0:
        return
    with transaction.atomic():
        row = WebhookRejection.objects.select_for_update().filter(**key).only("samples").first()
        if row is None or len(row.samples) >= limit:
            return
        row.samples.append(
            {
                "at": timezone.now().isoformat(),
                "remote_addr": remote_addr,
                "headers": {k: v[:200] for k, v in headers.items()},
                "body_bytes": len(raw_body),
                "body_prefix": raw_body[:256].decode("utf-8", "replace"),
            }
        )
        row.save(update_fields=["samples"])
