"""SuiteQL reading (provider-facts 3.3): ``POST /services/rest/query/v1/suiteql?limit=1000&offset=N`` with
``Prefer: transient``, offset paging over a stable ``ORDER BY`` on a unique key.

NetSuite serves at most 100,000 rows of one query: asking for an offset past that is an error. A query is therefore
read in *key windows*: a window is the query restricted to keys after the last key already read, paged by offset
until the next page would cross the cap; then the next window starts after the last key seen. A table of any size
is read with one extra query per 100k rows, and the last key read is also the resume point of a killed run (no
offset needs to survive between runs, so nothing depends on the provider keeping a result set).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
PAGE_SIZE = 1000  # NetSuite's maximum (and default) page size
ROW_CAP = 100_000  # rows NetSuite serves of one query


def row_cap() -> int:
    return int(getattr(settings, "NETSUITE_SUITEQL_ROW_CAP", ROW_CAP))


def sql_int(value) -> int:
    """Internal ids are integers; anything else is refused rather than pasted into SQL."""
    return int(str(value).strip())


def sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def sql_in(column: str, values: Sequence) -> str:
    return f"{column} IN ({', '.join(sql_text(v) for v in values)})"


@dataclass(frozen=True)
class KeyedQuery:
    """``SELECT <select> FROM <source> WHERE <conditions> ORDER BY <key>``.

    ``key`` holds (SQL expression, result column) pairs: the unique key the query is ordered and windowed by.
    """

    select: str
    source: str
    key: tuple[tuple[str, str], ...]
    conditions: tuple[str, ...] = field(default_factory=tuple)

    def after_condition(self, after: Sequence) -> str:
        """Rows strictly after ``after`` in key order: ``a > x OR (a = x AND b > y)`` (row-value comparison
        written out, as SuiteQL has no tuple comparison)."""
        parts = []
        values = [sql_int(v) for v in after]
        exprs = [expr for expr, _ in self.key]
        for i in range(len(exprs)):
            equal = [f"{exprs[j]} = {values[j]}" for j in range(i)]
            parts.append(" AND ".join([*equal, f"{exprs[i]} > {values[i]}"]))
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(f"({p})" for p in parts) + ")"

    def sql(self, after: Sequence | None = None) -> str:
        conditions = list(self.conditions)
        if after:
            conditions.append(self.after_condition(after))
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        order = ", ".join(expr for expr, _ in self.key)
        return f"SELECT {self.select} FROM {self.source}{where} ORDER BY {order}"

    def key_of(self, row: dict) -> list[int]:
        return [sql_int(row[column]) for _, column in self.key]


@dataclass
class Batch:
    rows: list[dict]
    last_key: list[int] | None  # key of the last row (None for an empty batch)
    more: bool  # whether the query has rows after this batch


def post_query(client, sql: str, *, offset: int, limit: int = PAGE_SIZE) -> dict:
    response = client.post(
        f"{SUITEQL_PATH}?limit={limit}&offset={offset}",
        json={"q": sql},
        headers={"Prefer": "transient", "Content-Type": "application/json"},
    )
    return response.json() or {}


def read(client, query: KeyedQuery, after: Sequence | None = None, *, limit: int = PAGE_SIZE,
         cap: int | None = None) -> Iterator[Batch]:
    """Every row of ``query`` after key ``after``, one batch per SuiteQL page, never asking past the cap."""
    cap = row_cap() if cap is None else cap
    window_after = list(after) if after else None
    last_key = window_after
    offset = 0
    while True:
        if offset and offset + limit > cap:
            # The next page would cross the cap: start a new window after the last key read.
            window_after, offset = last_key, 0
        body = post_query(client, query.sql(window_after), offset=offset, limit=limit)
        rows = [_columns(item) for item in body.get("items") or []]
        if rows:
            last_key = query.key_of(rows[-1])
        more = bool(body.get("hasMore")) and bool(rows)
        yield Batch(rows, last_key if rows else None, more)
        if not more:
            return
        offset += len(rows)


def read_all(client, query: KeyedQuery) -> list[dict]:
    return [row for batch in read(client, query) for row in batch.rows]


def _columns(item: dict) -> dict:
    # Every row carries an (empty) "links" list; columns come back lower-cased, nulls are left out entirely.
    return {k: v for k, v in item.items() if k != "links"}
