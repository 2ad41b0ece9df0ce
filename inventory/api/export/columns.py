"""The export's columns, compiled from the resource's serializer so that export and paged API cannot drift apart.

On PostgreSQL each serializer field becomes a SQL expression that formats the value exactly as
``serializers.FastReadSerializer`` does (ISO 8601 UTC with ``Z``, decimals as fixed-point strings, ids, booleans),
so the rows can leave the database through ``COPY ... TO STDOUT`` without passing through Python objects. A field
that has no exact SQL equivalent makes ``sql_columns`` return None, and the export then formats rows in Python
with the serializer itself (also the path on SQLite)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Case, Expression, F, Func, TextField, Value, When
from rest_framework import relations, serializers
from rest_framework.settings import api_settings

# Both formats come from the same columns; CSV has no booleans, so they are spelt as JSON spells them.
JSON, CSV = "ndjson", "csv"


class IsoUtc(Func):
    """``2026-03-01T14:03:00Z``, or ``...:00.250000Z`` when there are microseconds: Python's ``isoformat()`` of the
    UTC value with ``+00:00`` written ``Z``, as the API renders datetimes. One ``to_char`` per value (the costliest
    part of an exported row), then the all-zero fraction dropped as ``isoformat()`` drops it."""

    output_field = TextField()
    template = (
        "replace(to_char((%(expressions)s AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
        "'.000000Z', 'Z')"
    )


class FixedPoint(Func):
    """A decimal rounded to the serializer's places and printed without exponent (``12.5000``)."""

    output_field = TextField()
    template = "(round(%(expressions)s, %(places)s)::text)"


def _source(field) -> str:
    return field.source.replace(".", "__")


# How a column's SQL value becomes JSON text (see stream.copy_sql): numbers and booleans as they print, text
# through to_json (escaping), and text we formatted ourselves (timestamps, fixed-point decimals: nothing to escape)
# just quoted.
NUMBER, TEXT, FORMATTED = "number", "text", "formatted"


def _column(field, fmt: str) -> tuple[Expression, str] | None:
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return F(_source(field)), NUMBER
    if isinstance(field, serializers.DateTimeField):
        return IsoUtc(F(_source(field))), FORMATTED
    if isinstance(field, serializers.DecimalField):
        if field.localize or field.normalize_output or not getattr(
                field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING):
            return None
        return FixedPoint(F(_source(field)), places=int(field.decimal_places)), FORMATTED
    if isinstance(field, serializers.BooleanField):
        if fmt == JSON:
            return F(_source(field)), NUMBER
        return Case(When(**{_source(field): True}, then=Value("true")),
                    When(**{_source(field): False}, then=Value("false")), default=None,
                    output_field=TextField()), TEXT
    if isinstance(field, serializers.IntegerField):
        return F(_source(field)), NUMBER
    if isinstance(field, (serializers.CharField, serializers.ChoiceField)):
        return F(_source(field)), TEXT
    return None


def sql_columns(serializer, fmt: str) -> list[tuple[str, Expression, str]] | None:
    """(API field name, SQL expression, JSON kind) per readable field, or None when one of them has no exact SQL
    form."""
    if settings.TIME_ZONE != "UTC":  # the API renders datetimes in the current time zone; SQL assumes UTC
        return None
    columns = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        if field.source == "*" or isinstance(field, serializers.SerializerMethodField):
            return None
        compiled = _column(field, fmt)
        if compiled is None:
            return None
        columns.append((name, *compiled))
    return columns
