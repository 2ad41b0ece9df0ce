"""Re-enqueueing stored events: the periodic sweep (events that never reached a worker) and staff replay (admin
action and ``replay_webhooks``). Both only flip the row back to ``queued`` and send the task after commit; the
worker's row lock and final-status check make a doubly sent task harmless."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import WebhookEvent

from .dispatch import enqueue, publish, serialize_claims
from .inbox import resolve_connection_id
from .processing import process_event

Status = WebhookEvent.Status


def stale_events_q(now) -> Q:
    cutoff = now - timedelta(seconds=settings.WEBHOOK_SWEEP_AFTER_SECONDS)
    never_sent = Q(status=Status.RECEIVED)
    sent_but_lost = Q(status=Status.QUEUED, next_attempt_at__isnull=True, enqueued_at__lt=cutoff)
    retry_lost = Q(status=Status.QUEUED, next_attempt_at__lt=cutoff)
    return never_sent | sent_but_lost | retry_lost


def sweep_stale(limit: int = 1000) -> int:
    now = timezone.now()
    with transaction.atomic():
        serialize_claims()
        pks = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(stale_events_q(now))
            .order_by("received_at")
            .values_list("pk", flat=True)[:limit]
        )
        WebhookEvent.objects.filter(pk__in=pks).update(status=Status.QUEUED, enqueued_at=now, next_attempt_at=None)
        transaction.on_commit(lambda: publish(pks))
    return len(pks)


@dataclass
class ReplayReport:
    queued: list[int] = field(default_factory=list)
    processed: dict[int, str] = field(default_factory=dict)  # inline replays: pk -> resulting status
    still_unmatched: list[int] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.queued)} queued"]
        if self.processed:
            by_status: dict[str, int] = {}
            for status in self.processed.values():
                by_status[status] = by_status.get(status, 0) + 1
            parts.append("processed inline: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())))
        if self.still_unmatched:
            parts.append(f"{len(self.still_unmatched)} still without a connection")
        return "; ".join(parts)


def replay(events, *, inline: bool = False) -> ReplayReport:
    """Run stored events again, whatever their status. Unmatched events are matched again first (the account may
    have been connected since). Ingest is idempotent, so replaying a processed event writes nothing twice."""
    report = ReplayReport()
    now = timezone.now()
    for pk in list(events.order_by("received_at").values_list("pk", flat=True)):
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().filter(pk=pk).first()
            if event is None:
                continue
            if event.connection_id is None:
                event.connection_id = resolve_connection_id(event.provider, event.external_account_id)
                if event.connection_id is None:
                    report.still_unmatched.append(pk)
                    continue
            event.status = Status.QUEUED
            event.attempts = 0
            event.enqueued_at = now
            event.next_attempt_at = None
            event.save(update_fields=["connection", "status", "attempts", "enqueued_at", "next_attempt_at"])
            if not inline:
                transaction.on_commit(lambda pk=pk: enqueue(pk))
        if inline:
            report.processed[pk] = process_event(pk).status
        else:
            report.queued.append(pk)
    return report
