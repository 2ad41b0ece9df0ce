"""The Stream protocol and the cursor rules every stream shares.

A stream yields ``Page`` objects: the normalized records of one provider page plus the cursor to save once that
page is ingested. The engine saves the cursor in the same transaction as the page's rows, so a killed worker's next
run resumes from the last page committed.

The cursor is never "the time the last run ended" (NangoHQ/nango#752): it is the newest provider ``updated_at``
seen, minus an overlap window, so changes made while a run was going and late arrivals (Square offline orders) are
read again; ingest is idempotent, so the overlap costs reads, never duplicates.

Cursor JSON (``SyncCursor.value``)::

    {"updated_at": "<ISO lower bound of the next query>",   # null: from the beginning
     "page": <provider page token / bulk position to resume mid-run, or null>,
     "high_water": "<newest updated_at seen so far>"}

Streams whose provider sorts by the cursor field ascending (``ordered = True``) move ``updated_at`` forward after
every page, so a resumed run needs no page token. Streams read in any other order (Square inventory counts come
newest first) keep the run's lower bound and save the provider's page token instead, and move ``updated_at`` only
when the run completes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.utils.dateparse import parse_datetime

RECORD_KINDS = ("locations", "items", "stock", "sales", "deletions")


@dataclass
class Page:
    records: list = field(default_factory=list)
    cursor: dict | None = None
    # The records as the ingest step's own prepared form (e.g. ``inventory.ingest.PreparedSales``), made by the
    # engine on the fetching thread; None: ingest takes ``records`` as they are.
    prepared: Any = None
    # A stock check's drift report (``integrations.sync.drift``), saved on the run with this page; None: keep.
    drift: dict | None = None


def parse_time(value: str | None) -> datetime | None:
    """Provider RFC 3339 timestamps ("2026-01-02T03:04:05.123Z") to aware datetimes; None stays None."""
    if not value:
        return None
    parsed = parse_datetime(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    if parsed is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    return parsed


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a Z, truncated (so floored) to milliseconds: both Square filters and Shopify search
    syntax accept it, and flooring can only re-read, never skip."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Watermark:
    """Tracks the lower bound of a run's query, the newest ``updated_at`` seen and the resume token."""

    def __init__(self, cursor: dict | None, overlap: timedelta, ordered: bool):
        cursor = cursor or {}
        self.since: datetime | None = parse_time(cursor.get("updated_at"))
        self.resume_page: Any = cursor.get("page")
        self.high_water: datetime | None = parse_time(cursor.get("high_water")) if self.resume_page else None
        self.overlap = overlap
        self.ordered = ordered

    def observe(self, moment: datetime | None) -> None:
        if moment is not None and (self.high_water is None or moment > self.high_water):
            self.high_water = moment

    def _advanced(self) -> datetime | None:
        if self.high_water is None:
            return self.since
        candidate = self.high_water - self.overlap
        # Never move backwards: the previous bound was already "newest seen minus overlap".
        return candidate if self.since is None or candidate > self.since else self.since

    def _value(self, since: datetime | None, page: Any) -> dict:
        return {
            "updated_at": format_time(since) if since else None,
            "page": page,
            "high_water": format_time(self.high_water) if self.high_water else None,
        }

    def after_page(self, next_page: Any) -> dict:
        """The cursor to save after a page, ``next_page`` being the provider's token for the following one."""
        if self.ordered:
            return self._value(self._advanced(), None)
        return self._value(self.since, next_page)

    def final(self) -> dict:
        return self._value(self._advanced(), None)


class Stream(ABC):
    """One provider resource synced into one kind of normalized record.

    Subclasses set ``name`` (a key of ``provider.schedule_defaults``), ``record_kind`` (which ingest function
    takes the records), ``ordered`` (see the module doc) and implement ``pages``. Mappers stay pure functions in
    the provider's ``mappers.py``; a stream only fetches and pages.
    """

    name: ClassVar[str] = ""
    record_kind: ClassVar[str] = ""
    ordered: ClassVar[bool] = False
    overlap: ClassVar[timedelta | None] = None  # None: settings.SYNC_OVERLAP_SECONDS
    # Streams of the same connection whose active runs this one waits for (records that refer to theirs).
    requires: ClassVar[tuple[str, ...]] = ()
    # False for checks (the stock reconciliation): "sync now", connect and ``sync`` without ``--stream`` queue only
    # the streams that carry data; a check runs on its own schedule or when asked for by name.
    runs_with_all: ClassVar[bool] = True

    def __init__(self, connection, client, *, heartbeat: Callable[[], None] | None = None):
        self.connection = connection
        self.client = client
        self.heartbeat = heartbeat or (lambda: None)

    def overlap_window(self) -> timedelta:
        if self.overlap is not None:
            return self.overlap
        return timedelta(seconds=getattr(settings, "SYNC_OVERLAP_SECONDS", 300))

    def watermark(self, cursor: dict | None) -> Watermark:
        return Watermark(cursor, self.overlap_window(), self.ordered)

    @abstractmethod
    def pages(self, cursor: dict | None, *, full: bool = False) -> Iterator[Page]:
        """Pages of records, each with the cursor to save once it is ingested."""
