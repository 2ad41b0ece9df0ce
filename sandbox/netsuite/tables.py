"""The virtual SuiteQL tables (rows generated lazily from the merchant) and the WHERE/SELECT evaluator.

Rows are dicts keyed ``"table.column"``; dates are datetimes until they are selected (then ``M/D/YYYY``, as
NetSuite's default date format, or whatever ``TO_CHAR`` asks for).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from sqlglot import exp

from ..data import Merchant

ITEM_ID_BASE = 1000
TABLES = {
    "location": ["id", "name", "fullname", "isinactive", "subsidiary", "mainaddress", "lastmodifieddate"],
    "item": ["id", "itemid", "displayname", "upccode", "itemtype", "isinactive", "baseprice", "createddate",
             "lastmodifieddate"],
    "inventoryitemlocations": ["item", "location", "quantityonhand", "quantityavailable", "quantitycommitted",
                               "quantityonorder", "quantitybackordered", "averagecostmli"],
    "transaction": ["id", "tranid", "trandate", "type", "status", "voided", "currency", "foreigntotal", "location",
                    "createddate", "lastmodifieddate"],
    "transactionline": ["transaction", "id", "linesequencenumber", "mainline", "taxline", "item", "itemtype",
                        "quantity", "rate", "netamount", "foreignamount", "location"],
    "currency": ["id", "symbol", "name"],
    # NetSuite's deleted-records log (the Deleted Record search): what was deleted, of which type, when, by whom.
    "deletedrecord": ["recordid", "recordtypeid", "name", "deleteddate", "deletedby", "context", "iscustomrecord",
                      "istransaction"],
    # OneWorld: a root subsidiary (no parent) sharing its name with Company Information, and one child.
    "subsidiary": ["id", "name", "legalname", "parent", "isinactive", "iselimination"],
}
# The first column of each query kind's natural key: a bound on it in the WHERE lets a stream skip ahead.
FIRST_KEY = {"location": "location.id", "item": "item.id", "inventory": "inventoryitemlocations.item",
             "headers": "transaction.id", "sales": "transactionline.transaction", "deleted": "deletedrecord.recordid",
             "subsidiary": "subsidiary.id"}
DISPLAY = {"type": {"CashSale": "Cash Sale", "SalesOrd": "Sales Order", "CustInvc": "Invoice"},
           "itemtype": {"InvtPart": "Inventory Item"}}


class SuiteQLError(Exception):
    pass


def _location_row(m: Merchant, index: int) -> dict:
    loc = m.location(index)
    return {"location.id": index + 1, "location.name": loc.name, "location.fullname": loc.name,
            "location.isinactive": "F", "location.subsidiary": 1,
            # NetSuite stores an address record id here; BUILTIN.DF() shows it as text, which is all we keep.
            "location.mainaddress": f"{loc.street_line}, {loc.city}, {loc.region} {loc.postal}".strip(),
            "location.lastmodifieddate": m.base_variant(0).updated_at}


def company_name(m: Merchant) -> str:
    return f"Sandbox Company {m.seed.rsplit(':', 1)[-1].upper()}"


def subsidiary_rows(m: Merchant) -> list[dict]:
    name = company_name(m)
    return [{"subsidiary.id": 1, "subsidiary.name": name, "subsidiary.legalname": f"{name} Inc.",
             "subsidiary.parent": None, "subsidiary.isinactive": "F", "subsidiary.iselimination": "F"},
            {"subsidiary.id": 2, "subsidiary.name": f"{name} Canada", "subsidiary.legalname": f"{name} Canada Ltd.",
             "subsidiary.parent": 1, "subsidiary.isinactive": "F", "subsidiary.iselimination": "F"}]


def _item_row(m: Merchant, v) -> dict:
    return {"item.id": ITEM_ID_BASE + v.index, "item.itemid": v.sku, "item.displayname": v.title,
            "item.upccode": v.barcode, "item.itemtype": "InvtPart", "item.isinactive": "F",
            "item.baseprice": Decimal(v.price_cents) / 100, "item.createddate": m.base_variant(v.index).updated_at,
            "item.lastmodifieddate": v.updated_at}


def _deleted_rows(m: Merchant) -> list[tuple[int, dict]]:
    """Deleted items and locations in record-id order (item ids start at ITEM_ID_BASE, above every location id)."""
    rows = [(loc + 1, "location", m.location(loc).name, at) for loc, at in sorted(m.overlay.deleted_locations.items())]
    rows += [(ITEM_ID_BASE + v.index, "inventoryitem", v.sku, v.updated_at)
             for _i, v in sorted(m.overlay.variants.items()) if v.deleted]
    return [(rid, {"deletedrecord.recordid": rid, "deletedrecord.recordtypeid": kind, "deletedrecord.name": name,
                   "deletedrecord.deleteddate": at, "deletedrecord.deletedby": -4,
                   "deletedrecord.context": "UI", "deletedrecord.iscustomrecord": "F",
                   "deletedrecord.istransaction": "F"}) for rid, kind, name, at in rows]


def _stock_row(m: Merchant, v: int, loc: int) -> dict:
    s = m.stock(v, loc)
    return {"inventoryitemlocations.item": ITEM_ID_BASE + v, "inventoryitemlocations.location": loc + 1,
            "inventoryitemlocations.quantityonhand": s.on_hand, "inventoryitemlocations.quantityavailable": s.available,
            "inventoryitemlocations.quantitycommitted": s.committed, "inventoryitemlocations.quantityonorder": 0,
            "inventoryitemlocations.quantitybackordered": 0,
            "inventoryitemlocations.averagecostmli": Decimal(m.variant(v).price_cents * 6) / 1000}


# Sales transactions cycle through the three types (tranid prefix, status): cash sales are deposited, invoices
# paid in full, sales orders billed (provider-facts 3.3 transaction types).
SALE_TYPES = (("CashSale", "CS", "C"), ("CustInvc", "INV", "B"), ("SalesOrd", "SO", "G"))


def sale_type(i: int) -> str:
    return SALE_TYPES[i % len(SALE_TYPES)][0]


def _sales_rows(m: Merchant, i: int) -> Iterator[tuple[int, dict]]:
    o = m.order(i)
    kind, prefix, status = SALE_TYPES[i % len(SALE_TYPES)]
    header = {"transaction.id": i + 1, "transaction.tranid": f"{prefix}{i + 1:07d}",
              "transaction.trandate": o.created_at, "transaction.type": kind, "transaction.status": status,
              "transaction.voided": "T" if o.state == "CANCELED" else "F", "transaction.currency": 1,
              "transaction.foreigntotal": Decimal(o.total_cents) / 100, "transaction.location": o.location_index + 1,
              "transaction.createddate": o.created_at, "transaction.lastmodifieddate": o.updated_at}
    # NetSuite's transactionline has a header ("mainline") row, id 0, before the item lines.
    yield 0, {**header, "transactionline.transaction": i + 1, "transactionline.id": 0,
              "transactionline.linesequencenumber": 0, "transactionline.mainline": "T",
              "transactionline.taxline": "F", "transactionline.netamount": Decimal(o.total_cents) / 100,
              "transactionline.location": o.location_index + 1}
    for line in o.lines:
        k = line.line_index + 1
        yield k, {**header, "transactionline.transaction": i + 1, "transactionline.id": k,
                  "transactionline.linesequencenumber": k, "transactionline.mainline": "F",
                  "transactionline.taxline": "F", "transactionline.item": ITEM_ID_BASE + line.variant_index,
                  # NetSuite stores sales item lines negative: stock goes out, income is a credit.
                  "transactionline.itemtype": "InvtPart", "transactionline.quantity": -line.quantity,
                  "transactionline.rate": Decimal(line.unit_price_cents) / 100,
                  "transactionline.netamount": -Decimal(line.unit_price_cents * line.quantity) / 100,
                  "transactionline.foreignamount": -Decimal(line.unit_price_cents * line.quantity) / 100,
                  "transactionline.location": line.location_index + 1}


def stream_for(m: Merchant, kind: str, tables: dict, where, resume) -> Iterator[tuple[object, dict]]:
    """(position, row) pairs in natural order, after ``resume`` (a position from an earlier page) if given,
    filtered by ``where``. A lower bound on lastmodifieddate in the WHERE skips straight to the first match."""
    floor = _time_floor(where, tables)
    low, high = _key_bounds(where, tables, FIRST_KEY[kind])
    if kind == "location":  # a deleted location is gone from the table (it is in deletedrecord)
        start = max(0 if resume is None else resume + 1, low - 1)
        positions = ((i, _location_row(m, i)) for i in range(start, min(m.sizes.locations, high))
                     if i not in m.overlay.deleted_locations)
    elif kind == "subsidiary":
        rows = subsidiary_rows(m)
        start = max(0 if resume is None else resume + 1, low - 1)
        positions = ((i, rows[i]) for i in range(start, min(len(rows), high)))
    elif kind == "item":
        start = max(0 if resume is None else resume + 1, low - ITEM_ID_BASE)
        positions = ((v.index, _item_row(m, v)) for v in m.iter_variants(start, updated_after=floor)
                     if v.index <= high - ITEM_ID_BASE and not v.deleted)
    elif kind == "deleted":
        positions = ((rid, row) for rid, row in _deleted_rows(m)
                     if (resume is None or rid > resume) and low <= rid <= high)
    elif kind == "inventory":
        joined = "item" in tables.values()

        def inventory():
            first = max(0, (low - ITEM_ID_BASE) * m.sizes.locations)
            last = min(m.stock_rows, (high - ITEM_ID_BASE + 1) * m.sizes.locations)
            for row in range(max(first, 0 if resume is None else resume + 1), last):
                v, loc = divmod(row, m.sizes.locations)
                data = _stock_row(m, v, loc)
                if joined:
                    data.update(_item_row(m, m.variant(v)))
                yield row, data

        positions = inventory()
    else:
        with_items = "item" in tables.values()
        with_currency = "currency" in tables.values()

        def sales():
            first = max(m.first_order_updated_after(floor) - 1 if floor else 0, low - 1)
            start_order, start_line = (max(first, 0), -1) if resume is None else resume
            for i in range(start_order, min(m.order_count, high)):
                for k, data in _sales_rows(m, i):
                    if (i == start_order and k <= start_line) or (kind == "headers" and k):
                        continue
                    if with_items:
                        item = data.get("transactionline.item")
                        data.update(_item_row(m, m.variant(item - ITEM_ID_BASE)) if item else {})
                    if with_currency:
                        data.update({"currency.id": 1, "currency.symbol": m.currency, "currency.name": "US Dollar"})
                    yield (i, k), data

        positions = sales()
    for position, row in positions:
        if where is None or evaluate(where.this, row, tables):
            yield position, row


def _conjuncts(where) -> list:
    if where is None:
        return []
    out, stack = [], [where.this]
    while stack:
        n = stack.pop()
        if isinstance(n, exp.And):
            stack += [n.this, n.expression]
        elif isinstance(n, exp.Paren):
            stack.append(n.this)
        else:
            out.append(n)
    return out


def _key_bounds(where, tables, key: str) -> tuple[int, float]:
    """Inclusive [low, high] bounds on the natural key's first column implied by top-level conjuncts:
    ``k > n``, ``k >= n``, ``k = n``, ``k IN (...)``, and keyset paging's ``(k > n) OR (k = n AND ...)``."""
    low, high = 0, float("inf")

    def is_key(node) -> bool:
        if not isinstance(node, exp.Column):
            return False
        try:
            table = tables[node.table.lower()] if node.table else None
        except KeyError:
            return False
        return f"{table}.{node.name.lower()}" == key or (table is None and key.endswith("." + node.name.lower()))

    def number(node):
        return int(node.this) if isinstance(node, exp.Literal) and not node.is_string else None

    for c in _conjuncts(where):
        if isinstance(c, exp.Or):
            left = c.this.this if isinstance(c.this, exp.Paren) else c.this
            if isinstance(left, exp.GT) and is_key(left.this) and number(left.expression) is not None:
                low = max(low, number(left.expression))
        elif isinstance(c, exp.GT | exp.GTE | exp.EQ) and is_key(c.this) and number(c.expression) is not None:
            n = number(c.expression)
            low = max(low, n + 1 if isinstance(c, exp.GT) else n)
            if isinstance(c, exp.EQ):
                high = min(high, n)
        elif isinstance(c, exp.In) and is_key(c.this):
            values = [number(e) for e in c.expressions]
            if values and None not in values:
                low, high = max(low, min(values)), min(high, max(values))
    return low, high


def _time_floor(where, tables) -> datetime | None:
    """The lower bound of a top-level ``<x>.lastmodifieddate >(=) <time>`` conjunct, if any (just a hint)."""
    for c in _conjuncts(where):
        if isinstance(c, exp.GT | exp.GTE) and isinstance(c.this, exp.Column) \
                and c.this.name.lower() == "lastmodifieddate":
            value = evaluate(c.expression, {}, tables)
            if isinstance(value, datetime):
                # strictly-after hint: step back a millisecond so >= keeps the boundary row
                from datetime import timedelta

                return value - timedelta(milliseconds=1)
    return None


def _column(col: exp.Column, row: dict, tables: dict):
    name = col.name.lower()
    if col.table:
        table = tables.get(col.table.lower())
        if table is None:
            raise SuiteQLError(f"Invalid search query: unknown table alias {col.table}.")
    else:
        candidates = [t for t in set(tables.values()) if name in TABLES[t]]
        if len(candidates) != 1:
            raise SuiteQLError(f"Invalid search query: column {name} is unknown or ambiguous.")
        table = candidates[0]
    if name not in TABLES[table]:
        raise SuiteQLError(f"Invalid search query: field '{name}' for record '{table}' was not found.")
    return row.get(f"{table}.{name}"), name


def _oracle_format(fmt: str) -> str:
    fmt = fmt.replace('"T"', "T")
    for oracle, py in (("YYYY", "%Y"), ("HH24", "%H"), ("MM", "%m"), ("DD", "%d"), ("MI", "%M"), ("SS", "%S")):
        fmt = fmt.replace(oracle, py)
    return fmt


def _parse_time(text: str, fmt: str | None) -> datetime:
    from datetime import UTC

    try:
        value = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
    except ValueError:
        raise SuiteQLError(f"Invalid date value {text!r} for format {fmt!r}.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _display(value):
    if isinstance(value, datetime):
        return f"{value.month}/{value.day}/{value.year}"
    if isinstance(value, Decimal):
        return float(value)
    return value


def evaluate(node, row: dict, tables: dict, display: bool = False):
    """Value of an expression for one row (``display``: format it as SuiteQL's JSON answer shows it)."""
    if isinstance(node, exp.Column):
        value, name = _column(node, row, tables)
        return _display(value) if display else value
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else Decimal(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Paren):
        return evaluate(node.this, row, tables, display)
    if isinstance(node, exp.StrToTime | exp.StrToDate):
        return _parse_time(evaluate(node.this, row, tables), node.args["format"].this if node.args.get("format")
                           else None)
    if isinstance(node, exp.ToChar):
        value = evaluate(node.this, row, tables)
        fmt = node.args.get("format")
        if isinstance(value, datetime):
            return value.strftime(_oracle_format(fmt.this) if fmt else "%m/%d/%Y")
        return None if value is None else str(_display(value))
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Anonymous) \
            and node.this.name.upper() == "BUILTIN" and node.expression.name.upper() == "DF":
        arg = node.expression.expressions[0]
        value = evaluate(arg, row, tables)
        if isinstance(arg, exp.Column):
            return _builtin_df(arg.name.lower(), value, row)
        return _display(value)
    if isinstance(node, exp.And):
        return bool(evaluate(node.this, row, tables)) and bool(evaluate(node.expression, row, tables))
    if isinstance(node, exp.Or):
        return bool(evaluate(node.this, row, tables)) or bool(evaluate(node.expression, row, tables))
    if isinstance(node, exp.Not):
        return not evaluate(node.this, row, tables)
    if isinstance(node, exp.Is):
        return evaluate(node.this, row, tables) is None
    if isinstance(node, exp.In):
        value = evaluate(node.this, row, tables)
        return any(_compare(value, evaluate(e, row, tables)) == 0 for e in node.expressions)
    if isinstance(node, exp.Between):
        value = evaluate(node.this, row, tables)
        low, high = evaluate(node.args["low"], row, tables), evaluate(node.args["high"], row, tables)
        return _compare(value, low) >= 0 and _compare(value, high) <= 0
    comparisons = {exp.EQ: lambda c: c == 0, exp.NEQ: lambda c: c != 0, exp.GT: lambda c: c > 0,
                   exp.GTE: lambda c: c >= 0, exp.LT: lambda c: c < 0, exp.LTE: lambda c: c <= 0}
    for kind, test in comparisons.items():
        if type(node) is kind:
            c = _compare(evaluate(node.this, row, tables), evaluate(node.expression, row, tables))
            return c is not None and test(c)
    raise SuiteQLError(f"Invalid search query: unsupported expression {node.sql(dialect='oracle')}.")


def _builtin_df(column: str, value, row: dict):
    if value is None:
        return None
    if column == "location":
        return f"Location {value}"
    if column == "item":
        return f"SKU-{int(value) - ITEM_ID_BASE + 1:06d}"
    return DISPLAY.get(column, {}).get(value, _display(value))


def _compare(a, b) -> int | None:
    """SQL comparison: NULL compares as unknown (None); strings vs dates/numbers are converted."""
    if a is None or b is None:
        return None
    if isinstance(a, datetime) and isinstance(b, str):
        b = _parse_time(b, None)
    elif isinstance(b, datetime) and isinstance(a, str):
        a = _parse_time(a, None)
    elif isinstance(a, int | Decimal) and isinstance(b, str) and re.fullmatch(r"-?\d+(\.\d+)?", b):
        b = Decimal(b)
    elif isinstance(b, int | Decimal) and isinstance(a, str) and re.fullmatch(r"-?\d+(\.\d+)?", a):
        a = Decimal(a)
    try:
        return (a > b) - (a < b)
    except TypeError:
        raise SuiteQLError(f"Invalid search query: cannot compare {a!r} with {b!r}.") from None
