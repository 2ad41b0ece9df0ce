"""One ``ApiCallLog`` row per attempt: what staff see in admin. Only redacted URLs, statuses, timings and budget
figures are stored: never headers, request bodies, tokens, codes or secrets."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError, transaction

log = logging.getLogger("shelfops.http")

# Generic request-id headers; a provider adds its own (``Provider.request_id_headers``), tried between them.
REQUEST_ID_HEADERS = ("x-request-id", "request-id")


@dataclass
class AttemptRecord:
    provider: str
    account: str
    method: str
    url: str  # already redacted
    attempt: int
    duration_ms: int
    status: int | None = None
    retry_reason: str = ""
    budget_left: str = ""
    request_id: str = ""
    error: str = ""  # already redacted


def request_id_of(response, provider_headers: tuple[str, ...] = ()) -> str:
    if response is None:
        return ""
    for name in (REQUEST_ID_HEADERS[0], *provider_headers, *REQUEST_ID_HEADERS[1:]):
        value = response.headers.get(name)
        if value:
            return value[:255]
    return ""


def write(record: AttemptRecord, connection=None) -> None:
    from integrations.models import ApiCallLog

    try:
        with transaction.atomic():  # a savepoint: a failed log write must not break the caller's transaction
            ApiCallLog.objects.create(
                connection=connection if connection is not None and connection.pk else None,
                provider=record.provider[:32],
                external_account_id=record.account[:255],
                method=record.method[:10],
                url=record.url,
                status_code=record.status,
                duration_ms=max(record.duration_ms, 0),
                attempt=record.attempt,
                retry_reason=record.retry_reason[:255],
                budget_left=record.budget_left[:64],
                request_id=record.request_id,
                error=record.error[:2000],
            )
    except DatabaseError:
        log.warning("could not write the API call log row for %s %s", record.method, record.url, exc_info=True)
