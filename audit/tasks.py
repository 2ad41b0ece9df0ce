"""Retention: entries older than AUDIT_RETENTION_DAYS are pruned daily (task name in SHELFOPS_PERIODIC_TASKS)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

log = logging.getLogger("shelfops.audit")

PRUNE_BATCH = 5000


def prune_entries_older_than(days: int, *, batch: int = PRUNE_BATCH) -> int:
    """Delete entries older than ``days`` in short batches. The only way entries leave the table: the model's
    own delete refuses, so this goes through the plain QuerySet delete on purpose."""
    from .models import AuditEntry

    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(AuditEntry.objects.filter(created_at__lt=cutoff).order_by("id").values_list("id", flat=True)[:batch])
        if not ids:
            return deleted
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # The table's trigger refuses deletes except in a transaction that says it is pruning.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL shelfops.audit_prune = 'on'")
            deleted += models.QuerySet.delete(AuditEntry.objects.filter(id__in=ids))[0]


@shared_task(name="audit.prune_audit_entries")
def prune_audit_entries() -> int:
    days = int(settings.AUDIT_RETENTION_DAYS)
    deleted = prune_entries_older_than(days)
    log.info("pruned %d audit entries older than %d days", deleted, days)
    return deleted
