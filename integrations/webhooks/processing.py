"""The processing side of the inbox: one stored event, handled once, inside a transaction (replays and retries;
the dispatcher's batches go through ``batch.py``, which reuses the pieces here).

Safe under redelivery (the task is acks_late, the sweep may enqueue an event twice, two workers may hold the same
message): the row is taken with ``SELECT ... FOR UPDATE SKIP LOCKED`` and skipped when it is already final. The
handler runs in a savepoint, so a failure rolls back everything it wrote but the error, traceback and attempt
count are still saved on the row (dj-stripe #832: a failed handler must stay retryable).
"""

from __future__ import annotations

import json
import logging
import random
import traceback
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.console.logs import bind, log_context
from integrations.models import Connection, WebhookEvent

from .base import HandlerResult, PermanentWebhookError, WebhookContext, receiver_for

log = logging.getLogger(__name__)
Status = WebhookEvent.Status
FINAL = frozenset({Status.PROCESSED, Status.IGNORED, Status.FAILED, Status.UNMATCHED})


@dataclass(frozen=True)
class Attempt:
    """What one processing attempt came to; ``retry_in`` is set when the task should try again later."""

    status: str
    retry_in: float | None = None


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter, capped (attempt 1 -> up to base, 2 -> 2*base, ...)."""
    ceiling = min(settings.WEBHOOK_RETRY_MAX_SECONDS, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def is_permanent(exc: BaseException) -> bool:
    """Errors a retry cannot fix: a payload we cannot read, revoked credentials, a 4xx from the provider."""
    if isinstance(exc, PermanentWebhookError | KeyError | TypeError | ValueError):
        return True
    try:
        from integrations.http.errors import ProviderAuthError, ProviderError, ProviderRateLimited
    except ImportError:  # the resilient client has not landed in this checkout
        return False
    if isinstance(exc, ProviderAuthError):
        return True
    if isinstance(exc, ProviderError) and not isinstance(exc, ProviderRateLimited):
        status = getattr(exc, "status", None) or 0
        return 400 <= status < 500 and status != 429
    return False


def source_for(connection: Connection):
    from inventory.records import Source

    return Source(
        retailer_id=connection.retailer_id,
        provider=connection.provider,
        external_account_id=connection.external_account_id,
    )


def context_for(event: WebhookEvent) -> tuple[WebhookContext, object] | HandlerResult:
    """The handler's context and the receiver for a locked event, or the result that settles it without one
    (topic not used, connection disconnected). Raises PermanentWebhookError for events that can never be handled."""
    receiver = receiver_for(event.provider)
    handler = receiver.handler_for(event.topic) if receiver else None
    if handler is None:
        return HandlerResult(Status.IGNORED, "topic not used by the portal")
    connection = event.connection
    if connection is None:
        raise PermanentWebhookError("event has no connection (unmatched account)")
    if connection.status != Connection.Status.ACTIVE and event.topic not in receiver.topics_after_disconnect:
        return HandlerResult(Status.IGNORED, f"connection is {connection.status}")
    try:
        payload = json.loads(bytes(event.body))
    except ValueError as exc:
        raise PermanentWebhookError(f"malformed JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise PermanentWebhookError("payload is not a JSON object")
    return WebhookContext(event=event, connection=connection, payload=payload, source=source_for(connection)), receiver


def run_handler(event: WebhookEvent) -> HandlerResult:
    prepared = context_for(event)
    if isinstance(prepared, HandlerResult):
        return prepared
    ctx, receiver = prepared
    return receiver.handler_for(event.topic)(ctx)


def apply_failure(event: WebhookEvent, exc: BaseException, now, tb: str) -> float | None:
    """Record a failed attempt on the (locked, in-memory) row: failed for good, or queued again with a backoff.
    Returns the retry delay, None when the event gave up. The caller has already counted the attempt."""
    event.error = f"{type(exc).__name__}: {exc}"[:2000]
    event.traceback = tb[-20000:]
    give_up = is_permanent(exc) or event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    if give_up:
        event.status, event.next_attempt_at, retry_in = Status.FAILED, None, None
        event.processed_at = now
    else:
        # A provider that said when to come back (Retry-After) is not asked sooner.
        retry_in = max(backoff_seconds(event.attempts), float(getattr(exc, "retry_after", None) or 0))
        event.status = Status.QUEUED
        event.enqueued_at = now
        event.next_attempt_at = now + timedelta(seconds=retry_in)
    log.warning(
        "webhook event %s (%s %s) attempt %s failed: %s%s", event.pk, event.provider, event.topic,
        event.attempts, type(exc).__name__, "" if give_up else f", retry in {retry_in:.0f}s",
    )
    return retry_in


def apply_result(event: WebhookEvent, result: HandlerResult, now) -> None:
    event.status = result.status
    event.outcome = result.outcome[:500]
    event.error = ""
    event.traceback = ""
    event.processed_at = now
    event.next_attempt_at = None


def process_event(event_pk: int) -> Attempt:
    with log_context(event_id=event_pk, connection_id=None):  # on every log line of the attempt
        return _process_event(event_pk)


def _process_event(event_pk: int) -> Attempt:
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("connection")
            .filter(pk=event_pk)
            .first()
        )
        if event is None:
            # Missing, or another worker holds it right now (a redelivered duplicate): nothing to do here.
            return Attempt("skipped")
        if event.status in FINAL:
            return Attempt(event.status)
        bind(connection_id=event.connection_id)
        event.attempts += 1
        now = timezone.now()
        try:
            with transaction.atomic():  # savepoint: the handler's writes vanish if it fails
                result = run_handler(event)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row, none escapes silently
            retry_in = apply_failure(event, exc, now, traceback.format_exc())
            event.save()
            return Attempt(event.status, retry_in)
        apply_result(event, result, now)
        event.save()
        return Attempt(event.status)
