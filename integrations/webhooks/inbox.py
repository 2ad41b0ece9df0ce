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

from .base import Envelope, WebhookReceiver
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


class RefusedDelivery(Exception):
    """A verified delivery that can never be stored or processed as it stands (hostile or broken in a way the
    database would choke on). Answered 400 with ``reason`` and counted in WebhookRejection; nothing is stored, so
    it is never retried as if the failure were transient."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def parse_json(raw_body: bytes):
    """The parsed body and an error text (empty when it parsed). Raises ``RefusedDelivery`` for a body nested
    deeper than the parser (or WEBHOOK_MAX_JSON_DEPTH) allows."""
    try:
        payload = json.loads(raw_body)
    except RecursionError:
        raise RefusedDelivery("json_too_deep", "JSON nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        return None, f"malformed JSON: {exc}"
    screen_payload(payload)
    return payload, ""


def _unstorable_text(text: str) -> str:
    """Why PostgreSQL could not store ``text`` (a NUL, a lone surrogate), or empty when it can."""
    if "\x00" in text:
        return "NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "lone surrogate (invalid Unicode)"
    return ""


def screen_payload(payload) -> None:
    """Refuse a payload nested deeper than WEBHOOK_MAX_JSON_DEPTH or holding a string (key or value) the database
    cannot store. Iterative, so hostile nesting never reaches Python's recursion limit."""
    max_depth = settings.WEBHOOK_MAX_JSON_DEPTH
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            problem = _unstorable_text(value)
            if problem:
                raise RefusedDelivery("unstorable_text", f"payload holds a {problem}")
        elif isinstance(value, dict | list):
            if depth > max_depth:
                raise RefusedDelivery("json_too_deep", f"JSON nested deeper than {max_depth} levels")
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                if key is not None and _unstorable_text(key):
                    raise RefusedDelivery("unstorable_text", f"payload key holds a {_unstorable_text(key)}")
                stack.append((item, depth + 1))


def screen_envelope(envelope: Envelope, headers: dict[str, str]) -> None:
    """The envelope's fields and the headers to be stored must be text the database can store."""
    for name, value in (("event id", envelope.event_id), ("topic", envelope.topic), ("account", envelope.account_id)):
        if not isinstance(value, str):
            raise RefusedDelivery("bad_envelope", f"{name} is not a string")
        problem = _unstorable_text(value)
        if problem:
            raise RefusedDelivery("unstorable_text", f"{name} holds a {problem}")
    for name, value in headers.items():
        problem = _unstorable_text(name) or _unstorable_text(value)
        if problem:
            raise RefusedDelivery("unstorable_text", f"header {name[:40]!r} holds a {problem}")


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


def store_delivery(receiver: WebhookReceiver, raw_body: bytes, headers, subscription=None) -> StoredDelivery:
    """Store a verified delivery. A repeat of a stored event id changes nothing. Raises ``RefusedDelivery`` for
    a delivery that can never be stored (see ``screen_payload`` / ``screen_envelope``)."""
    payload, parse_error = parse_json(raw_body)
    # PLUGIN-GLUE: until the receivers' base signature takes ``subscription`` (contract item 2), pass it only when
    # the URL had a segment.
    extra = {"subscription": subscription} if subscription is not None else {}
    envelope = receiver.envelope(raw_body, payload, headers, **extra)
    parse_error = parse_error or envelope.parse_error
    provider = receiver.provider_key
    storable_headers = receiver.storable_headers(headers)
    screen_envelope(envelope, storable_headers)
    fields = {
        "provider": provider,
        "external_account_id": envelope.account_id[:255],
        "event_id": envelope.event_id[:255],
        "topic": envelope.topic[:128],
        "headers": storable_headers,
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


def _printable(text: str) -> str:
    """Text safe to keep in a JSON column: NULs and lone surrogates escaped (samples of hostile deliveries)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


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
                "headers": {_printable(k): _printable(v[:200]) for k, v in headers.items()},
                "body_bytes": len(raw_body),
                "body_prefix": _printable(raw_body[:256].decode("utf-8", "replace")),
            }
        )
        row.save(update_fields=["samples"])
