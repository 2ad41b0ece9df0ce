"""A matching decision and its set-based write: one UPDATE per chunk of mappings, never one per row."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

_CHUNK = 2000


@dataclass(slots=True)
class Decision:
    """``target``: matched automatically (with ``confidence`` and ``reason``). ``suggested``: left unmapped for a
    person, with the best candidate. ``target`` of a not-yet-created row is filled in before writing."""

    mapping_id: int
    target: int | None = None
    confidence: float | None = None
    reason: str = ""
    suggested: int | None = None
    suggestion_confidence: float | None = None
    suggestion_reason: str = ""


def write(model, target: str, decisions: list[Decision]) -> list[int]:
    """Store decisions on automatic, still-unmapped mappings only (a staff choice made meanwhile wins); returns
    the ids that got a target."""
    table = model._meta.db_table
    now_value = connection.ops.adapt_datetimefield_value(timezone.now())
    assign = (
        f"UPDATE {table} SET {target}_id = v.target_id, match_confidence = v.confidence, "
        f"match_reason = v.reason, suggested_{target}_id = v.suggested_id, "
        f"suggestion_confidence = v.s_confidence, suggestion_reason = v.s_reason, updated_at = %s FROM v "
        f"WHERE {table}.id = v.mapping_id AND {table}.{target}_id IS NULL AND {table}.automatically_generated"
    )
    if connection.vendor == "postgresql":
        # Seven array parameters instead of 7 x 2,000 placeholders: the client-side cursor renders and the
        # server parses a 14,000-placeholder VALUES list far slower than it runs the update.
        columns = list(zip(*[(d.mapping_id, d.target, d.confidence, d.reason[:255], d.suggested,
                              d.suggestion_confidence, d.suggestion_reason[:255]) for d in decisions], strict=True))
        if not columns:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH v(mapping_id, target_id, confidence, reason, suggested_id, s_confidence, s_reason) AS "
                "(SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::text[], %s::bigint[], "
                "%s::float8[], %s::text[])) " + assign,
                [*(list(c) for c in columns), now_value],
            )
        return [d.mapping_id for d in decisions if d.target is not None]
    row = "(%s, CAST(%s AS BIGINT), CAST(%s AS DOUBLE PRECISION), %s, CAST(%s AS BIGINT), " \
          "CAST(%s AS DOUBLE PRECISION), %s)"
    for start in range(0, len(decisions), _CHUNK):
        chunk = decisions[start : start + _CHUNK]
        params = []
        for d in chunk:
            params += [d.mapping_id, d.target, d.confidence, d.reason[:255], d.suggested, d.suggestion_confidence,
                       d.suggestion_reason[:255]]
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH v(mapping_id, target_id, confidence, reason, suggested_id, s_confidence, s_reason) AS "
                f"(VALUES {', '.join([row] * len(chunk))}) " + assign,
                [*params, now_value],
            )
    return [d.mapping_id for d in decisions if d.target is not None]
