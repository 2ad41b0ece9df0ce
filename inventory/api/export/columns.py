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
    UTC value with ``+00:00`` written ``Z``, as the API renders datetimes."""

    output_field = TextField()
    _utc = "(%(expressions)s AT TIME ZONE 'UTC')"
    template = (
        f"(to_char({_utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN to_char({_utc}, 'US') = '000000' THEN '' ELSE '.' || to_char({_utc}, 'US') END || 'Z')"
    )


class FixedPoint(Func):
    """A decimal rounded to the serializer's places and printed without exponent (``12.5000``)."""

    output_field = TextField()
    template = "(round(%(expressions)s, %(places)s)::text)"


def _source(field) -> str:
    return field.source.replace(".", "__")


def _column(field, fmt: str) -> Expression | None:
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return F(_source(field))
    if isinstance(field, serializers.DateTimeField):
        return IsoUtc(F(_source(field)))
    if isinstance(field, serializers.DecimalField):
        if field.localize or field.normalize_output or not getattr(
                field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING):
            return None
        return FixedPoint(F(_source(field)), places=int(field.decimal_places))
    if isinstance(field, serializers.BooleanField):
        if fmt == JSON:
            return F(_source(field))
        return Case(When(**{_source(field): True}, then=Value("true")),
                    When(**{_source(field): False}, then=Value("false")), default=None,
                    output_field=TextField())
    if isinstance(field, (serializers.CharField, serializers.IntegerField, serializers.ChoiceField)):
        return F(_source(field))
    return None


def field_names(serializer) -> list[str]:
    return [name for name, field in serializer.fields.items() if not field.write_only]


def sql_columns(serializer, fmt: str) -> list[tuple[str, Expression]] | None:
    """(API field name, SQL expression) per readable field, or None when one of them has no exact SQL form."""
    if settings.TIME_ZONE != "UTC":  # the API renders datetimes in the current time zone; SQL assumes UTC
        return None
    columns = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        if field.source == "*" or isinstance(field, serializers.SerializerMethodField):
            return None
        expression = _column(field, fmt)
        if expression is None:
            return None
        columns.append((name, expression))
    return columns

