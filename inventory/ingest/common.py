"""What every ingest function shares: batch size, error collection, the per-batch transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction

from inventory.records import IngestCounts

from . import values as v
from .values import BadRecord

MAX_ERRORS = 100  # per call; a count says how many more were skipped, so nothing bad goes unreported


def batch_size() -> int:
    # 20k rows per statement keeps the COPY + upsert path near its best rate while memory stays bounded.
    return getattr(settings, "INGEST_BATCH_SIZE", 20000)


def in_batches(records: Iterable, ingest_batch: Callable[[list, IngestCounts], None]) -> IngestCounts:
    """Feed ``records`` to ``ingest_batch(chunk, counts)`` in bounded chunks, one transaction per chunk, so memory
    stays flat and a failure rolls back only its own chunk."""
    counts = IngestCounts()
    for chunk in v.chunks(records, batch_size()):
        with transaction.atomic():
            ingest_batch(chunk, counts)
    return counts


def record_error(counts: IngestCounts, what: str, error: BadRecord) -> None:
    if len(counts.errors) < MAX_ERRORS:
        counts.errors.append(f"{what}: {error}")
    elif len(counts.errors) == MAX_ERRORS:
        counts.errors.append("more bad records skipped (see counts)")
