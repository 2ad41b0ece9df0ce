"""Checks on record values before they reach SQL: a bad value is reported on the counts, never stored half-way
and never a crash of the whole batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

# Transaction/level quantity and price columns are DECIMAL(18, 4).
MAX_ABS = Decimal("1e14")
FOUR_PLACES = Decimal("0.0001")


class BadRecord(ValueError):
    """A record that cannot be stored; the message names the field and is safe to show (no secrets in records)."""


def decimal_or_none(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    return decimal(value, field)


def decimal(value, field: str) -> Decimal:
    if isinstance(value, float):
        # Floats already lost precision upstream; going through str keeps what the provider most likely sent.
        value = repr(value)
    try:
        number = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError):
        raise BadRecord(f"{field}: not a decimal number: {str(value)[:40]!r}")
    if not number.is_finite() or abs(number) >= MAX_ABS:
        raise BadRecord(f"{field}: out of range: {str(value)[:40]!r}")
    # The columns keep 4 places; rounding here (as the database would) keeps "unchanged" comparisons exact.
    return number.quantize(FOUR_PLACES) if number.as_tuple().exponent < -4 else number


def aware(value, field: str, *, required: bool = True) -> datetime | None:
    if value is None:
        if required:
            raise BadRecord(f"{field}: missing")
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise BadRecord(f"{field}: needs a timezone-aware datetime, got {str(value)[:40]!r}")
    return value


def text(value, field: str, max_length: int, *, required: bool = False) -> str:
    value = "" if value is None else str(value)
    if required and not value:
        raise BadRecord(f"{field}: missing")
    if len(value) > max_length:
        if required:
            raise BadRecord(f"{field}: longer than {max_length} characters")
        value = value[:max_length]
    return value


def currency(value) -> str:
    value = (value or "").strip().upper()
    if value and (len(value) != 3 or not value.isalpha()):
        raise BadRecord(f"currency: not an ISO 4217 code: {value[:10]!r}")
    return value


def chunks(records: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consume any iterable (a generator of a 1M-line sync, a list from a webhook) in bounded chunks, so memory
    stays flat however big the input."""
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def chunks_of_whole_groups(records: Iterable[T], size: int, group) -> Iterator[list[T]]:
    """Like ``chunks`` but never splits a run of consecutive records with the same ``group(record)`` (an order's
    lines) across two chunks, so per-group logic (replace an order's line set) sees each group whole."""
    chunk: list[T] = []
    for record in records:
        if len(chunk) >= size and group(record) != group(chunk[-1]):
            yield chunk
            chunk = []
        chunk.append(record)
    if chunk:
        yield chunk


def newest_per_key(items: Iterable[tuple[tuple, object, T]]) -> list[T]:
    """Keep one record per key: the newest by version (None counts as oldest), the later one on a tie. The
    database cannot upsert the same row twice in one statement, and an older duplicate must not win."""
    best: dict[tuple, tuple[object, T]] = {}
    for key, version, item in items:
        held = best.get(key)
        if held is None or _not_older(version, held[0]):
            best[key] = (version, item)
    return [best[key][1] for key in sorted(best)]


def _not_older(version, than) -> bool:
    if version is None:
        return than is None
    return than is None or version >= than
