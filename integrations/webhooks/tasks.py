"""Celery tasks of the webhook inbox (autodiscovered by shelfops.celery)."""

from celery import shared_task
from django.conf import settings

from .batch import process_batch
from .dispatch import claim_and_send, send_retries
from .processing import process_event
from .replay import sweep_stale


@shared_task(name="integrations.webhooks.process_event", bind=True, acks_late=True, max_retries=None)
def process_webhook_event(self, event_pk: int) -> str:
    attempt = process_event(event_pk)
    if attempt.retry_in is not None:
        # The row already counts attempts and caps them (WEBHOOK_MAX_ATTEMPTS); Celery only carries the delay.
        raise self.retry(countdown=attempt.retry_in)
    return attempt.status


@shared_task(name="integrations.webhooks.process_batch", acks_late=True)
def process_webhook_batch(event_pks: list[int]) -> dict[str, int]:
    """Process a dispatcher's batch of events (batch.py). Events that must be tried again later are sent as their
    own ``process_event`` task with the delay, so a retry never drags its batch neighbours along."""
    return _process(event_pks)


def _process(event_pks: list[int]) -> dict[str, int]:
    report = process_batch(event_pks)
    send_retries(report.retries)
    counts: dict[str, int] = {}
    for status in report.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    if report.skipped:
        counts["skipped"] = len(report.skipped)
    return counts


@shared_task(name="integrations.webhooks.sweep_stale_events")
def sweep_stale_events(limit: int = 1000) -> int:
    """Enqueue stored events that never reached a worker (broker down at receipt, lost message)."""
    return sweep_stale(limit=limit)


@shared_task(name="integrations.webhooks.dispatch_received_events", acks_late=True)
def dispatch_received_events() -> int:
    """Hand out every stored ``received`` event (woken by the receive path, see dispatch.py): full batches as
    ``process_batch`` tasks for any free worker, and the last, smaller claim processed here at once. Deliveries
    that arrive meanwhile wake another dispatcher (the flag was cleared before claiming), so at a steady rate the
    worker's processes take turns claiming and processing, and a batch holds whatever arrived while they were
    busy: it grows with the load instead of staying one message per wake-up."""
    sent, kept = claim_and_send(keep=settings.WEBHOOK_PROCESS_BATCH)
    if kept:
        _process(kept)
    return sent + len(kept)
