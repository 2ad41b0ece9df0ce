"""NetSuite SuiteQL over REST: ``POST .../suitetalk/services/rest/query/v1/suiteql?limit=&offset=`` with
``Prefer: transient`` and ``{"q": "SELECT ..."}`` (provider-facts 3.3).

Not a SQL engine: queries are parsed with sqlglot (Oracle dialect) and must have one of these shapes, over the
generated merchant (anything else gets NetSuite's 400 ``INVALID_PARAMETER`` body):

1. ``SELECT ... FROM location [WHERE ...] [ORDER BY id]``
2. ``SELECT ... FROM item [WHERE ...] [ORDER BY id]``
3. ``SELECT ... FROM inventoryitemlocations iil [JOIN item i ON i.id = iil.item] [WHERE ...]
   [ORDER BY iil.item, iil.location]``
4. ``SELECT ... FROM transaction t [LEFT JOIN currency c ON c.id = t.currency] [WHERE ...] [ORDER BY t.id]``
5. ``SELECT ... FROM transactionline tl [JOIN transaction t ON tl.transaction = t.id | LEFT JOIN item i ON
   i.id = tl.item] [WHERE ...] [ORDER BY tl.transaction, tl.id]``

A bound on the first key column (``id > n``, ``IN (...)``, keyset paging's ``(k > n) OR (k = n AND ...)``) or on
``lastmodifieddate`` lets the stream start at the first candidate row instead of scanning from the start.

WHERE may combine with AND/OR/NOT: comparisons, IN, IS [NOT] NULL, BETWEEN, on columns, string/number literals
and ``TO_TIMESTAMP``/``TO_DATE``. Select items: columns (``*`` on one table), aliases, ``BUILTIN.DF(col)``,
``TO_CHAR(date, 'YYYY-MM-DD HH24:MI:SS')``. Answers as NetSuite does: lower-cased column names, null columns left
out, dates as ``M/D/YYYY`` (use TO_CHAR for time of day), ``links``/``count``/``hasMore``/``offset``/
``totalResults``, at most 100,000 rows per query. ``transactionline`` has the header ("mainline") row, id 0, as
NetSuite does: filter ``mainline = 'F'`` for item lines.
"""

from __future__ import annotations

from itertools import islice

import sqlglot
from sqlglot import exp
from werkzeug.wrappers import Request

from ..http import Route, json_response, read_json
from .oauth import authenticate, problem
from .tables import TABLES, SuiteQLError, evaluate, stream_for

MAX_ROWS = 100_000
MAX_LIMIT = 1000


def bad(detail: str, code: str = "INVALID_PARAMETER"):
    return problem(400, "Bad Request", code, detail)


def concurrency_exceeded(state, account_host: str):
    """With a NetSuite plan set in the faults, more requests in flight than the account's pool: 429."""
    limit = state.faults["netsuite"].netsuite_concurrency()
    if limit is not None and state.counters.in_flight.get(f"netsuite:{account_host}", 0) > limit:
        from .oauth import fault_response

        return fault_response(429, None)
    return None


def plan_query(q: str):
    """Parse and check a query's shape: (tables by alias, kind, select list, where, natural order)."""
    try:
        tree = sqlglot.parse_one(q, read="oracle")
    except sqlglot.errors.ParseError as exc:
        raise SuiteQLError(f"Invalid search query. Detailed unprocessed description follows. {exc}") from None
    if not isinstance(tree, exp.Select):
        raise SuiteQLError("Only SELECT statements are supported.")
    if tree.args.get("group") or tree.args.get("having") or tree.args.get("limit"):
        raise SuiteQLError("The sandbox does not support GROUP BY, HAVING or FETCH/LIMIT in SuiteQL.")
    tables = {}
    main = tree.args["from_"].this if "from_" in tree.args else tree.args["from"].this
    for table in [main] + [j.this for j in tree.args.get("joins") or []]:
        if not isinstance(table, exp.Table) or table.name.lower() not in TABLES:
            raise SuiteQLError(f"Invalid search query: unknown table {table.sql()}.")
        tables[(table.alias or table.name).lower()] = table.name.lower()
    names = sorted(tables.values())
    kinds = {("location",): "location", ("item",): "item", ("inventoryitemlocations",): "inventory",
             ("inventoryitemlocations", "item"): "inventory", ("transaction",): "headers",
             ("currency", "transaction"): "headers", ("transaction", "transactionline"): "sales",
             ("transactionline",): "sales", ("item", "transactionline"): "sales", ("deletedrecord",): "deleted",
             ("subsidiary",): "subsidiary"}
    kind = kinds.get(tuple(names))
    if kind is None:
        raise SuiteQLError(f"The sandbox does not support this combination of tables: {', '.join(names)}.")
    for join in tree.args.get("joins") or []:
        on = join.args.get("on")
        if not isinstance(on, exp.EQ) or not _is_join_key(on, tables, kind):
            raise SuiteQLError("Unsupported JOIN condition.")
    natural = {"location": ["location.id"], "item": ["item.id"],
               "inventory": ["inventoryitemlocations.item", "inventoryitemlocations.location"],
               "headers": ["transaction.id"], "sales": ["transactionline.transaction", "transactionline.id"],
               "deleted": ["deletedrecord.recordid"], "subsidiary": ["subsidiary.id"]}[kind]
    order = tree.args.get("order")
    if order:
        keys = []
        for ordered in order.expressions:
            col = ordered.this
            if not isinstance(col, exp.Column) or ordered.args.get("desc"):
                raise SuiteQLError("The sandbox supports ORDER BY on the natural key, ascending, only.")
            keys.append(f"{tables.get(col.table.lower(), names[0]) if col.table else names[0]}.{col.name.lower()}")
        keys = [k.replace("transaction.id", "transactionline.transaction") if kind == "sales" else k for k in keys]
        if keys != natural[: len(keys)]:
            raise SuiteQLError(f"The sandbox supports ORDER BY {', '.join(natural)} only.")
    return tables, kind, tree.expressions, tree.args.get("where")


def _is_join_key(on, tables, kind) -> bool:
    sides = set()
    for col in (on.this, on.expression):
        if not isinstance(col, exp.Column):
            return False
        sides.add(f"{tables.get(col.table.lower(), '?')}.{col.name.lower()}")
    return sides in ({"item.id", "inventoryitemlocations.item"}, {"transactionline.transaction", "transaction.id"},
                     {"currency.id", "transaction.currency"}, {"item.id", "transactionline.item"})


def suiteql(app, request: Request, account_host: str):
    state = app.state
    _token, denied = authenticate(state, request, account_host)
    if denied:
        return denied
    if request.headers.get("Prefer", "").strip().lower() != "transient":
        return bad("The request must use the 'Prefer: transient' header.", "INVALID_HEADER")
    body = read_json(request)
    if body is None or not isinstance(body.get("q"), str):
        return bad("The request body must be a JSON object with the SuiteQL query in 'q'.", "INVALID_CONTENT")
    try:
        limit = int(request.args.get("limit", MAX_LIMIT))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        return bad("limit and offset must be integers.")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        return bad(f"Invalid query parameter value. limit must be 1-{MAX_LIMIT}, offset >= 0.")
    if offset >= MAX_ROWS:
        return bad("The query result exceeds 100000 rows. Use SuiteAnalytics Connect for larger results.")
    m = state.merchant("netsuite", account_host)
    try:
        tables, kind, select, where = plan_query(body["q"])
        # A page continues from where the previous page of the same query stopped (no rescans of the prefix).
        key = (account_host, body["q"], m.overlay.version)
        resume = state.netsuite_query_cache.get((key, offset))
        rows = stream_for(m, kind, tables, where, resume)
        if resume is None and offset:
            rows = islice(rows, offset, None)  # a page we have no bookmark for: skip the prefix
        page = []
        position = resume
        for position, row in islice(rows, min(limit, MAX_ROWS - offset) + 1):
            page.append((position, row))
        more = len(page) > min(limit, MAX_ROWS - offset)
        page = page[: min(limit, MAX_ROWS - offset)]
        if more:
            state.netsuite_query_cache[(key, offset + len(page))] = page[-1][0]
        total = state.netsuite_query_cache.get((key, "total"))
        if total is None:
            total = sum(1 for _ in stream_for(m, kind, tables, where, None))
            state.netsuite_query_cache[(key, "total")] = total
        items = [dict(links=[], **evaluate_select(select, row, tables)) for _, row in page]
    except SuiteQLError as exc:
        return bad(str(exc))
    base = f"{request.host_url.rstrip('/')}{request.path}"
    links = [{"rel": "self", "href": f"{base}?limit={limit}&offset={offset}"}]
    if more:
        links.append({"rel": "next", "href": f"{base}?limit={limit}&offset={offset + limit}"})
    return json_response({"links": links, "count": len(items), "hasMore": more, "items": items, "offset": offset,
                          "totalResults": total})


def evaluate_select(select, row: dict, tables: dict) -> dict:
    out = {}
    for expr in select:
        if isinstance(expr, exp.Star) or (isinstance(expr, exp.Column) and isinstance(expr.this, exp.Star)):
            out.update({k.split(".", 1)[1]: v for k, v in row.items() if v is not None and "." in k})
            continue
        name = expr.alias_or_name.lower()
        value = evaluate(expr.this if isinstance(expr, exp.Alias) else expr, row, tables, display=True)
        if value is not None:
            out[name] = value
    return out


ROUTES = [
    Route("/netsuite/<account_host>/suitetalk/services/rest/query/v1/suiteql", suiteql, ("POST",),
          provider="netsuite"),
]
