"""Sales lines -> ``Transaction`` rows, one per (provider, account, order id, line id).

- An edit or cancellation of an order arrives as its lines again (with the new quantity/state) and updates them
  in place; a record with an older ``order_updated_at`` than the stored one never overwrites it.
- ``replace_orders=True``: the records are the complete line set of their orders (a sync page or an order
  webhook fetched in full). Stored lines of those orders that are no longer present were removed at the
  provider: they keep their row (history, and the REST clients see the change through ``updated_at``) with
  ``quantity = 0`` and ``state = cancelled``. Every call must then carry whole orders, each order's lines
  consecutive (as mappers yield them); internal batches never split such a run.
- A line whose location or item is not mapped yet is stored with its mapping and a NULL store/product ("held")
  and attached when the mapping resolves. A line without an item id (a custom amount) has no product mapping.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from inventory.mapping import attach_held_rows_bulk
from inventory.models import ProductMapping, StoreMapping, Transaction
from inventory.records import IngestCounts, SaleLine, Source

from . import values as v
from .common import batch_size, record_error
from .resolve import MappingResolver
from .upsert import UpsertSpec, adapt_rows, stage_table, staged, upsert

TABLE = Transaction._meta.db_table
STATES = {choice.value for choice in Transaction.State}
NEWER_OR_SAME = (
    "excluded.order_updated_at IS NULL OR t.order_updated_at IS NULL OR excluded.order_updated_at >= t.order_updated_at"
)
SPEC = UpsertSpec(
    table=TABLE,
    columns=(
        "source",
        "external_account_id",
        "external_order_id",
        "external_line_id",
        "retailer_id",
        "store_mapping_id",
        "product_mapping_id",
        "store_id",
        "product_id",
        "sku",
        "quantity",
        "unit_price",
        "currency",
        "state",
        "occurred_at",
        "order_updated_at",
        "refund_of_order_id",
        "refund_of_line_id",
        "kind",
        "created_at",
        "updated_at",
    ),
    keys=("source", "external_account_id", "external_order_id", "external_line_id"),
    updates=(
        "store_mapping_id",
        "product_mapping_id",
        "store_id",
        "product_id",
        "sku",
        "quantity",
        "unit_price",
        "currency",
        "state",
        "occurred_at",
        "order_updated_at",
        "refund_of_order_id",
        "refund_of_line_id",
        "kind",
    ),
    guard=NEWER_OR_SAME,
    copy_types=(
        "text", "text", "text", "text", "int8", "int8", "int8", "int8", "int8", "text", "numeric", "numeric",
        "text", "text", "timestamptz", "timestamptz", "text", "text", "text", "timestamptz", "timestamptz",
    ),
)
KINDS = {
    "quantity": "decimal",
    "unit_price": "decimal",
    "occurred_at": "datetime",
    "order_updated_at": "datetime",
    "created_at": "datetime",
    "updated_at": "datetime",
}
CREATED_AT = SPEC.columns.index("created_at")


class PreparedSales:
    """Sale lines already checked and deduplicated per internal batch: the part of ``ingest_sales`` that needs no
    database. The sync engine prepares the next page on its prefetch thread while this one is written."""

    def __init__(self, records: Iterable[SaleLine], *, replace_orders: bool = False):
        self.replace_orders = replace_orders
        self.counts = IngestCounts()  # validation errors, handed on to ingest_sales' counts
        self.batches = list(_prepared_batches(records, replace_orders, self.counts))


def prepare_sales(records: Iterable[SaleLine], *, replace_orders: bool = False) -> PreparedSales:
    return PreparedSales(records, replace_orders=replace_orders)


def ingest_sales(
    source: Source, records: Iterable[SaleLine] | PreparedSales, *, replace_orders: bool = False
) -> IngestCounts:
    resolver = MappingResolver(source)
    if isinstance(records, PreparedSales):
        if records.replace_orders != replace_orders:
            raise ValueError("prepared with a different replace_orders")
        counts, batches = records.counts, records.batches
    else:
        # Lazily, batch by batch: a generator of a million lines stays a bounded amount of memory.
        counts = IngestCounts()
        batches = _prepared_batches(records, replace_orders, counts)
    for lines in batches:
        with transaction.atomic():
            _ingest_batch(source, lines, resolver, counts, replace_orders)
    return counts


def _prepared_batches(records: Iterable[SaleLine], replace_orders: bool, counts: IngestCounts):
    if replace_orders:
        chunks = v.chunks_of_whole_groups(records, batch_size(), lambda r: r.order_external_id)
    else:
        chunks = v.chunks(records, batch_size())
    for chunk in chunks:
        lines = v.newest_per_key(_validated(chunk, counts))
        if lines:
            yield lines


def _validated(chunk: list[SaleLine], counts: IngestCounts):
    for r in chunk:
        try:
            yield (
                (
                    v.text(r.order_external_id, "order id", 255, required=True),
                    v.text(r.line_external_id, "line id", 255, required=True),
                ),
                v.aware(r.order_updated_at, "order_updated_at", required=False),
                (
                    r,
                    v.decimal(r.quantity, "quantity"),
                    v.decimal_or_none(r.unit_price, "unit_price"),
                    v.currency(r.currency),
                    _state(r.state),
                    v.aware(r.occurred_at, "occurred_at"),
                ),
            )
        except v.BadRecord as error:
            record_error(counts, f"sale line {r.order_external_id!s:.40}/{r.line_external_id!s:.40}", error)


def _state(state: str) -> str:
    state = (state or "completed").lower()
    if state == "canceled":  # Square spells it the American way
        state = "cancelled"
    if state not in STATES:
        raise v.BadRecord(f"state: unknown {state[:20]!r}")
    return state


def _ingest_batch(source, lines, resolver: MappingResolver, counts: IngestCounts, replace_orders: bool) -> None:
    stores = resolver.resolve_stores({r.location_external_id for r, *_ in lines if r.location_external_id})
    products = resolver.resolve_products({r.item_external_id: r.sku for r, *_ in lines if r.item_external_id})
    now = timezone.now()
    rows = []
    held_stores: set[int] = set()
    held_products: set[int] = set()
    held = 0
    for r, quantity, unit_price, currency, state, occurred_at in lines:
        store_mapping_id, store_id = stores.get(r.location_external_id, (None, None))
        product_mapping_id, product_id = products.get(r.item_external_id, (None, None))
        if (store_mapping_id and store_id is None) or (product_mapping_id and product_id is None):
            held += 1
            if store_id is None and store_mapping_id:
                held_stores.add(store_mapping_id)
            if product_id is None and product_mapping_id:
                held_products.add(product_mapping_id)
        rows.append(
            (
                source.provider,
                source.external_account_id,
                r.order_external_id,
                r.line_external_id,
                source.retailer_id,
                store_mapping_id,
                product_mapping_id,
                store_id,
                product_id,
                (r.sku or "")[:255],
                quantity,
                unit_price,
                currency,
                state,
                occurred_at,
                r.order_updated_at,
                (r.refund_of_order_id or "")[:255],
                (r.refund_of_line_id or "")[:255],
                r.kind if r.kind in ("sale", "shipment") else "sale",
                now,
                now,
            )
        )
    created, updated = upsert(SPEC, adapt_rows(SPEC, rows, KINDS), CREATED_AT)
    counts.created += created
    counts.updated += updated
    counts.unchanged += len(rows) - created - updated
    counts.held += held
    if replace_orders:
        counts.removed += _cancel_missing_lines(source, lines, now, staged=staged(len(rows)))
    # A mapping resolved by staff while this batch ran: attach what we just stored under it.
    attach_held_rows_bulk(StoreMapping, held_stores)
    attach_held_rows_bulk(ProductMapping, held_products)


def _cancel_missing_lines(source: Source, lines, now, *, staged: bool = False) -> int:
    """Zero and cancel stored lines of the batch's orders that the batch no longer lists, unless the stored line
    is newer than the order version in the batch (an out-of-order replay must not cancel a newer line).
    ``staged``: the batch was just upserted through the stage table, which still holds exactly its lines."""
    if staged:
        with connection.cursor() as cursor:
            cursor.execute(_CANCEL_STAGED, [now, source.provider, source.external_account_id])
            return len(cursor.fetchall())
    orders: dict[str, object] = {}
    for r, *_ in lines:
        current = orders.get(r.order_external_id)
        if current is None or (r.order_updated_at is not None and r.order_updated_at > current):
            orders[r.order_external_id] = r.order_updated_at
    lines_of: dict[str, list[str]] = {}
    for r, *_ in lines:
        lines_of.setdefault(r.order_external_id, []).append(r.line_external_id)
    adapt = connection.ops.adapt_datetimefield_value
    postgres = connection.vendor == "postgresql"
    removed = 0
    with connection.cursor() as cursor:
        if postgres:
            # Four array parameters, whatever the batch size: binding thousands of scalars cost more than the query.
            items = sorted(orders.items())
            pairs = [(order_id, line_id) for order_id, _ in items for line_id in lines_of[order_id]]
            cursor.execute(_CANCEL_POSTGRES, [
                [order_id for order_id, _ in items], [updated for _, updated in items],
                [order_id for order_id, _ in pairs], [line_id for _, line_id in pairs],
                now, source.provider, source.external_account_id,
            ])
            return len(cursor.fetchall())
        for chunk in _order_chunks(sorted(orders.items()), lines_of):
            chunk_lines = [(order_id, line_id) for order_id, _ in chunk for line_id in lines_of[order_id]]
            params = [
                *(x for order_id, updated in chunk for x in (order_id, adapt(updated) if updated else None)),
                *(x for pair in chunk_lines for x in pair),
                adapt(now),
                source.provider,
                source.external_account_id,
                *(order_id for order_id, _ in chunk),
            ]
            cursor.execute(_cancel_sql_sqlite(len(chunk), len(chunk_lines)), params)
            # Counted from RETURNING: Python's sqlite3 reports no rowcount for a statement starting with WITH.
            removed += len(cursor.fetchall())
    return removed


_CANCEL = "UPDATE {table} SET quantity = 0, state = 'cancelled', updated_at = %s "


# Each order's stored lines are read by one probe of the unique index (source, account, order id, ...):
# ``LATERAL ... OFFSET 0`` keeps the probes per order, and ``id = ANY(ARRAY(...))`` updates by primary key. Both
# shapes hold whatever the statistics say. With an ``IN`` list of order ids the planner needs column statistics to
# know the list is selective; on a freshly loaded table (none yet) it estimated the list matched every row and
# scanned the whole account for every batch, so a batch cost more the bigger the account grew.
# The outer conditions repeat the inner ones on the row being updated: a concurrent ingest that wrote a newer
# version of a line after this statement's snapshot is re-checked there (EvalPlanQual), not cancelled.
_CANCEL_BY_ORDER = (
    _CANCEL.format(table=TABLE)
    + "WHERE id = ANY(ARRAY("
    "SELECT s.id FROM o CROSS JOIN LATERAL ("
    f"SELECT x.id, x.external_line_id, x.order_updated_at FROM {TABLE} x "
    "WHERE x.source = %s AND x.external_account_id = %s AND x.external_order_id = o.order_id "
    "AND x.state <> 'cancelled' OFFSET 0) s "
    "WHERE (o.updated IS NULL OR s.order_updated_at IS NULL OR s.order_updated_at <= o.updated) "
    "AND (o.order_id, s.external_line_id) NOT IN (SELECT order_id, line_id FROM l))) "
    "AND state <> 'cancelled' AND (external_order_id, external_line_id) NOT IN (SELECT order_id, line_id FROM l) "
    f"AND EXISTS (SELECT 1 FROM o WHERE o.order_id = {TABLE}.external_order_id AND (o.updated IS NULL "
    f"OR {TABLE}.order_updated_at IS NULL OR {TABLE}.order_updated_at <= o.updated)) "
    "RETURNING 1"
)
# The batch's orders (newest version of each, as in Python: max() skips NULLs) and lines as four arrays...
_CANCEL_POSTGRES = (
    "WITH o(order_id, updated) AS (SELECT * FROM unnest(%s::text[], %s::timestamptz[])), "
    "l(order_id, line_id) AS (SELECT * FROM unnest(%s::text[], %s::text[])) " + _CANCEL_BY_ORDER
)
# ... or, after a staged upsert, read from the stage: sending 5,000 ids again as array parameters cost more on the
# client (each array is rendered as a literal in Python) than the statement cost the server.
_STAGE = stage_table(SPEC)
_CANCEL_STAGED = (
    f"WITH o(order_id, updated) AS (SELECT external_order_id, max(order_updated_at) FROM {_STAGE} "
    "GROUP BY external_order_id ORDER BY external_order_id), "
    f"l(order_id, line_id) AS (SELECT external_order_id, external_line_id FROM {_STAGE}) " + _CANCEL_BY_ORDER
)


def _cancel_sql_sqlite(orders: int, lines: int) -> str:
    # SQLite has neither LATERAL nor arrays; its planner uses the unique index for the IN list of order ids.
    return (
        f"WITH o(order_id, updated) AS (VALUES {', '.join(['(%s, %s)'] * orders)}), "
        f"l(order_id, line_id) AS (VALUES {', '.join(['(%s, %s)'] * lines)}) "
        + _CANCEL.format(table=TABLE)
        + "WHERE source = %s AND external_account_id = %s AND state <> 'cancelled' "
        f"AND external_order_id IN ({', '.join(['%s'] * orders)}) "
        "AND (external_order_id, external_line_id) NOT IN (SELECT order_id, line_id FROM l) "
        f"AND EXISTS (SELECT 1 FROM o WHERE o.order_id = {TABLE}.external_order_id AND (o.updated IS NULL "
        f"OR {TABLE}.order_updated_at IS NULL OR {TABLE}.order_updated_at <= o.updated)) RETURNING 1"
    )


def _order_chunks(order_items: list, lines_of: dict[str, list[str]], max_params: int = 20000):
    """Groups of whole orders small enough for one statement's bound parameters."""
    chunk, params = [], 0
    for item in order_items:
        cost = 3 + 2 * len(lines_of[item[0]])  # (id, updated) in o, id in the IN list, (id, line) per line
        if chunk and params + cost > max_params:
            yield chunk
            chunk, params = [], 0
        chunk.append(item)
        params += cost
    if chunk:
        yield chunk
