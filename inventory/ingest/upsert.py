"""One batched, idempotent ``INSERT ... ON CONFLICT DO UPDATE ... WHERE <changed>`` for both databases.

Both PostgreSQL and SQLite (>= 3.39 for ``IS DISTINCT FROM``) speak the same upsert dialect, so one statement
shape serves both; only how the rows reach the server and how "created" is told from "updated" differ:

- PostgreSQL, big batch: rows are streamed with ``COPY`` into a temporary stage table and upserted from it in one
  statement (``COPY`` is several times cheaper per row than bound parameters). The stage is created once per
  database session and emptied at every commit (``ON COMMIT DELETE ROWS``): creating and dropping it in every
  transaction wrote and deleted ~30 catalog rows per batch, a cost per sync page and, with autovacuum off,
  catalog bloat. Its name carries a hash of the column list, so a session that outlives a column change builds
  a new one instead of copying into the old shape. ``RETURNING (xmax = 0)`` tells an
  inserted row from an updated one, aggregated in the server so no per-row result comes back.
- PostgreSQL small batch: one array parameter per column, ``unnest``-ed in the server (a statement whose text
  does not grow with the batch).
- SQLite (and a spec without PostgreSQL types): a multi-row ``VALUES`` list with bound parameters.
  SQLite has no ``xmax``; a row whose ``created_at`` is this batch's timestamp was inserted by it.

The ``WHERE`` on ``DO UPDATE`` is what makes "unchanged" real: a row whose values are all the same, or whose
stored version is newer (the caller's ``guard``), is not written at all, so ``updated_at`` does not move.
Rows are sorted by key first so concurrent ingests of overlapping batches lock rows in the same order (no
deadlock: the second one waits, then finds nothing to change).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

# Below this many rows a VALUES list is cheaper than creating/filling a stage table.
COPY_THRESHOLD = 2000
# SQLite allows 32766 bound parameters, PostgreSQL 65535; stay well under both.
MAX_PARAMS = 30000


@dataclass(frozen=True)
class UpsertSpec:
    table: str
    columns: tuple[str, ...]  # every inserted column, in row-tuple order (includes created_at, updated_at)
    keys: tuple[str, ...]  # the unique constraint's columns
    updates: tuple[str, ...]  # columns overwritten on conflict when something changed (updated_at added)
    guard: str = ""  # extra SQL condition on DO UPDATE, e.g. out-of-order protection; "t" is the stored row
    # Columns where NULL means "not reported": the stored value is kept (e.g. a stock state the provider omitted).
    keep_when_null: tuple[str, ...] = ()
    # PostgreSQL type names of ``columns``: when given, the stage is filled with binary COPY, which skips
    # formatting every Decimal/datetime as text (about a third of the client-side cost per row).
    copy_types: tuple[str, ...] = ()

    def _new(self, column: str) -> str:
        if column in self.keep_when_null:
            return f"COALESCE(excluded.{column}, t.{column})"
        return f"excluded.{column}"

    def sql_tail(self) -> str:
        sets = ", ".join(f"{c} = {self._new(c)}" for c in self.updates)
        changed = " OR ".join(f"t.{c} IS DISTINCT FROM {self._new(c)}" for c in self.updates)
        where = f"({changed})" + (f" AND ({self.guard})" if self.guard else "")
        return (
            f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {sets}, updated_at = excluded.updated_at WHERE {where}"
        )


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def adapt_rows(spec: UpsertSpec, rows: list[tuple], field_kinds: dict[str, str]) -> list[tuple]:
    """SQLite's driver does not know Django's storage formats for aware datetimes and Decimals; the raw cursor
    needs them adapted the way the ORM would. psycopg adapts both natively, so PostgreSQL skips this."""
    if is_postgres():
        return rows
    ops = connection.ops
    adapters = []
    for column in spec.columns:
        kind = field_kinds.get(column)
        if kind == "datetime":
            adapters.append(ops.adapt_datetimefield_value)
        elif kind == "decimal":
            adapters.append(lambda v: None if v is None else str(v))
        else:
            adapters.append(None)
    return [tuple(a(v) if a else v for a, v in zip(adapters, row, strict=True)) for row in rows]


def stage_table(spec: UpsertSpec) -> str:
    return f"ingest_stage_{spec.table}_{zlib.crc32(','.join(spec.columns).encode()):08x}"


def staged(row_count: int) -> bool:
    """Whether ``upsert`` of this many rows goes through the stage table. After such an upsert, and until the
    transaction ends, the stage holds exactly the upserted rows: a caller can use it as the batch's key set
    instead of sending the keys again as parameters."""
    return is_postgres() and row_count >= COPY_THRESHOLD


def upsert(spec: UpsertSpec, rows: Sequence[tuple], created_at_index: int) -> tuple[int, int]:
    """Upsert ``rows`` (already deduplicated on the key and sorted); return (created, updated)."""
    if not rows:
        return 0, 0
    if staged(len(rows)):
        return _upsert_staged(spec, rows)
    created = updated = 0
    per_statement = max(1, MAX_PARAMS // len(spec.columns))
    for start in range(0, len(rows), per_statement):
        c, u = _upsert_values(spec, rows[start : start + per_statement], created_at_index)
        created += c
        updated += u
    return created, updated


def _upsert_values(spec: UpsertSpec, rows: Sequence[tuple], created_at_index: int) -> tuple[int, int]:
    if is_postgres() and spec.copy_types:
        return _upsert_arrays(spec, rows)
    placeholder = "(" + ", ".join(["%s"] * len(spec.columns)) + ")"
    params = [v for row in rows for v in row]
    insert = (
        f"INSERT INTO {spec.table} AS t ({', '.join(spec.columns)}) VALUES "
        + ", ".join([placeholder] * len(rows))
        + " "
        + spec.sql_tail()
    )
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                f"WITH up AS ({insert} RETURNING (xmax = 0) AS inserted) "
                "SELECT count(*) FILTER (WHERE inserted), count(*) FROM up",
                params,
            )
            created, written = cursor.fetchone()
            return created, written - created
        batch_created_at = rows[0][created_at_index]
        cursor.execute(insert + " RETURNING created_at", params)
        returned = cursor.fetchall()
    # The driver may hand back a naive datetime or the stored text; both print as Django stored them.
    created = sum(1 for (created_at,) in returned if str(created_at) == str(batch_created_at))
    return created, len(returned) - created


def _upsert_arrays(spec: UpsertSpec, rows: Sequence[tuple]) -> tuple[int, int]:
    """PostgreSQL, small batch: one binary array parameter per column, unnested in the server (shelfops/pg_arrays.py).
    The statement's text is the same whatever the batch size, so the driver converts it once per process; a
    ``VALUES`` list of one placeholder per value was re-parsed by the client-side cursor on every call (profiled
    with bench/webhooks_cpu.py: that parse was the largest single cost of processing a webhook batch).
    ``WITH ORDINALITY`` keeps the caller's key order, so concurrent batches still lock rows in the same order."""
    cols = ", ".join(spec.columns)
    from shelfops.pg_arrays import binary_params_cursor

    arrays = ", ".join(f"%b::{kind}[]" for kind in spec.copy_types)
    columns = [list(column) for column in zip(*rows, strict=True)]
    with binary_params_cursor() as cursor:
        cursor.execute(
            f"WITH up AS (INSERT INTO {spec.table} AS t ({cols}) SELECT {cols} FROM unnest({arrays}) "
            f"WITH ORDINALITY AS s({cols}, row_number) ORDER BY row_number {spec.sql_tail()} "
            "RETURNING (xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE inserted), count(*) FROM up",
            columns,
        )
        created, written = cursor.fetchone()
    return created, written - created


def _upsert_staged(spec: UpsertSpec, rows: Sequence[tuple]) -> tuple[int, int]:
    stage = stage_table(spec)
    cols = ", ".join(spec.columns)
    with connection.cursor() as cursor:
        # Same column types as the target, no constraints or indexes. Emptied at commit; emptied here too, for a
        # second batch in the same transaction (DELETE: TRUNCATE would give it a new file, a catalog write).
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS "
            f"AS SELECT {cols} FROM {spec.table} WITH NO DATA"
        )
        cursor.execute(f"DELETE FROM {stage}")
        binary = " (FORMAT BINARY)" if spec.copy_types else ""
        with cursor.cursor.copy(f"COPY {stage} ({cols}) FROM STDIN{binary}") as copy:
            if spec.copy_types:
                copy.set_types(spec.copy_types)
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH up AS (INSERT INTO {spec.table} AS t ({cols}) SELECT {cols} FROM {stage} "
            f"ORDER BY {', '.join(spec.keys)} {spec.sql_tail()} RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FROM up"
        )
        created, written = cursor.fetchone()
    return created, written - created
