"""Periodic task of the HTTP client area (name fixed in settings.SHELFOPS_PERIODIC_TASKS)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

log = logging.getLogger("shelfops.http")

PRUNE_BATCH = 5000


def prune_api_call_logs_older_than(days: int, *, batch: int = PRUNE_BATCH) -> int:
    """Delete call log rows older than ``days``, in batches (short transactions, no table-wide lock)."""
    from integrations.models import ApiCallLog

    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(ApiCallLog.objects.filter(created_at__lt=cutoff).order_by("id").values_list("id", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += ApiCallLog.objects.filter(id__in=ids).delete()[0]


@shared_task(name="integrations.http.prune_api_call_logs")
def prune_api_call_logs() -> int:
    days = int(settings.API_CALL_LOG_RETENTION_DAYS)
    deleted = prune_api_call_logs_older_than(days)
    log.info("pruned %d API call log rows older than %d days", deleted, days)
    return deleted
