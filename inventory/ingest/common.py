"""What every ingest function shares: batch size, error collection, the per-batch transaction."""

from __future__ import annotations

from django.conf import settings

from inventory.records import IngestCounts

from .values import BadRecord

MAX_ERRORS = 100  # per call; a count says how many more were skipped, so nothing bad goes unreported


def batch_size() -> int:
    # 20k rows per statement keeps the COPY + upsert path near its best rate while memory stays bounded.
    return getattr(settings, "INGEST_BATCH_SIZE", 20000)


def record_error(counts: IngestCounts, what: str, error: BadRecord) -> None:
    if len(counts.errors) < MAX_ERRORS:
        counts.errors.append(f"{what}: {error}")
    elif len(counts.errors) == MAX_ERRORS:
        counts.errors.append("more bad records skipped (see counts)")
