"""Celery tasks of the webhook inbox (autodiscovered by shelfops.celery)."""

from celery import shared_task

from .dispatch import dispatch_received
from .processing import process_event
from .replay import sweep_stale


@shared_task(name="integrations.webhooks.process_event", bind=True, acks_late=True, max_retries=None)
def process_webhook_event(self, event_pk: int) -> str:
    attempt = process_event(event_pk)
    if attempt.retry_in is not None:
        # The row already counts attempts and caps them (WEBHOOK_MAX_ATTEMPTS); Celery only carries the delay.
        raise self.retry(countdown=attempt.retry_in)
    return attempt.status


@shared_task(name="integrations.webhooks.sweep_stale_events")
def sweep_stale_events(limit: int = 1000) -> int:
    """Enqueue stored events that never reached a worker (broker down at receipt, lost message)."""
    return sweep_stale(limit=limit)


@shared_task(name="integrations.webhooks.dispatch_received_events", acks_late=True)
def dispatch_received_events() -> int:
    """Send the processing task of every stored ``received`` event (woken by the receive path, see dispatch.py)."""
    return dispatch_received()
