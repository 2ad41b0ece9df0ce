"""Row streams for the export, in constant memory.

PostgreSQL: one ``COPY (SELECT ...) TO STDOUT`` statement, so the database formats the rows and the web worker
only moves bytes (re-chunked into ``CHUNK_BYTES`` blocks, one socket write each). If the client goes away, the
WSGI server closes the response, the generator is closed at its ``yield`` and psycopg cancels the COPY on the
server at once (``Copy.__exit__`` with an exception), so neither the worker nor the database keeps working for a
reader that left. Elsewhere (SQLite, or a serializer field without an exact SQL form) rows are read with a
chunked iterator and formatted by the serializer itself."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

import orjson
from django.db import connection

from .columns import CSV, FORMATTED, JSON, NUMBER

CHUNK_BYTES = 256 * 1024
ITERATOR_CHUNK_ROWS = 2000

# NDJSON through COPY: the CSV format with a delimiter and a quote character that JSON text never contains raw
# (json escapes every control character), so each row is the JSON text as is, one per line. The text format would
# double every backslash of the JSON escapes.
_NDJSON_COPY_OPTIONS = "FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e'"


def _json_text(alias: str, kind: str) -> str:
    if kind == NUMBER:
        return f"coalesce({alias}::text, 'null')"
    if kind == FORMATTED:
        return f"""coalesce('"' || {alias} || '"', 'null')"""
    return f"coalesce(to_json({alias})::text, 'null')"


def copy_sql(queryset, columns, fmt: str) -> tuple[str, tuple]:
    """The COPY statement for ``queryset`` (filters and joins kept) producing ``columns``.

    NDJSON rows are concatenated as text with the keys in the serializer's order (measured: about 1.5x faster in
    the database than ``row_to_json`` of the same columns and 2.5x faster than ``json_build_object``)."""
    qn = connection.ops.quote_name
    aliased = {f"c{i}": expression for i, (_, expression, _) in enumerate(columns)}
    inner, params = queryset.values(**aliased).query.sql_with_params()
    if fmt == CSV:
        select = ", ".join(f"x.c{i} AS {qn(name)}" for i, (name, _, _) in enumerate(columns))
        return f"COPY (SELECT {select} FROM ({inner}) x) TO STDOUT WITH (FORMAT csv, HEADER)", params
    pieces = []
    for i, (name, _, kind) in enumerate(columns):
        key = ("{" if i == 0 else ",") + f'"{name}":'
        pieces += [f"'{key}'", _json_text(f"x.c{i}", kind)]
    pieces.append("'}'")
    row = " || ".join(pieces)
    return f"COPY (SELECT {row} FROM ({inner}) x) TO STDOUT WITH ({_NDJSON_COPY_OPTIONS})", params


def copy_chunks(sql: str, params: tuple, *, counter: list[int], on_chunk: Callable[[], None]) -> Iterator[bytes]:
    """Blocks of COPY output. ``counter[0]`` counts newlines (= rows for NDJSON, whose rows hold no raw newline)."""
    buffer = bytearray()
    with connection.cursor() as cursor, cursor.copy(sql, params) as copy:
        for data in copy:
            buffer += data
            if len(buffer) >= CHUNK_BYTES:
                counter[0] += buffer.count(b"\n")
                yield bytes(buffer)
                buffer.clear()
                on_chunk()
    if buffer:
        counter[0] += buffer.count(b"\n")
        yield bytes(buffer)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def python_chunks(queryset, serializer, fmt: str, *, counter: list[int],
                  on_chunk: Callable[[], None]) -> Iterator[bytes]:
    """Rows formatted by the serializer (the paged API's own code), for databases without COPY."""
    names = [name for name, field in serializer.fields.items() if not field.write_only]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    buffer = bytearray()
    if fmt == CSV:
        writer.writerow(names)
    for instance in queryset.iterator(chunk_size=ITERATOR_CHUNK_ROWS):
        row = serializer.to_representation(instance)
        if fmt == JSON:
            buffer += orjson.dumps(row)
            buffer += b"\n"
        else:
            writer.writerow([_csv_value(row[name]) for name in names])
        counter[0] += 1
        if fmt == CSV and text.tell() >= CHUNK_BYTES:
            buffer += text.getvalue().encode()
            text.seek(0)
            text.truncate()
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
            on_chunk()
    if fmt == CSV:
        buffer += text.getvalue().encode()
    if buffer:
        yield bytes(buffer)
