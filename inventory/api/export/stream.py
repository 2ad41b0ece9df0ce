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

from .columns import CSV, JSON, json_row, sql_columns

CHUNK_BYTES = 256 * 1024
ITERATOR_CHUNK_ROWS = 2000

# NDJSON through COPY: the CSV format with a delimiter and a quote character that JSON text never contains raw
# (json escapes every control character), so each row is the JSON text as is, one per line. The text format would
# double every backslash of the JSON escapes.
_NDJSON_COPY_OPTIONS = "FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e'"


def copy_sql(queryset, serializer, fmt: str) -> tuple[str, tuple] | None:
    """The COPY statement for ``queryset`` (filters and joins kept) rendering ``serializer``'s fields, or None when
    the database cannot render them exactly."""
    if connection.vendor != "postgresql":
        return None
    if fmt == JSON:
        row = json_row(serializer)
        if row is None:
            return None
        sql, params = queryset.values_list(row).query.sql_with_params()
        return f"COPY ({sql}) TO STDOUT WITH ({_NDJSON_COPY_OPTIONS})", params
    columns = sql_columns(serializer, CSV)
    if columns is None:
        return None
    qn = connection.ops.quote_name
    aliased = {f"c{i}": expression for i, (_, expression, _) in enumerate(columns)}
    inner, params = queryset.values(**aliased).query.sql_with_params()
    select = ", ".join(f"x.c{i} AS {qn(name)}" for i, (name, _, _) in enumerate(columns))
    return f"COPY (SELECT {select} FROM ({inner}) x) TO STDOUT WITH (FORMAT csv, HEADER)", params


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
