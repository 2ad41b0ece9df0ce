"""Stock levels -> ``InventoryLevel`` rows, one per (location mapping, item mapping).

A quantity left as None means "the provider did not report this state" (a Square count carries one state, a
Shopify level the names asked for): the stored value is kept. A level with an older ``as_of`` than the stored
one never overwrites it. Unknown locations/items are stored held, as for sales.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from inventory.mapping import attach_held_rows_bulk
from inventory.models import InventoryLevel, ProductMapping, StoreMapping
from inventory.records import IngestCounts, Source, StockLevel

from . import values as v
from .common import in_batches, record_error
from .resolve import MappingResolver
from .upsert import UpsertSpec, adapt_rows, upsert

QUANTITIES = ("available", "on_hand", "committed", "incoming")
SPEC = UpsertSpec(
    table=InventoryLevel._meta.db_table,
    columns=(
        "store_mapping_id",
        "product_mapping_id",
        "retailer_id",
        "store_id",
        "product_id",
        "source",
        *QUANTITIES,
        "as_of",
        "created_at",
        "updated_at",
    ),
    keys=("store_mapping_id", "product_mapping_id"),
    updates=("store_id", "product_id", *QUANTITIES, "as_of"),
    keep_when_null=QUANTITIES,
    guard="excluded.as_of >= t.as_of",
    copy_types=(
        "int8", "int8", "int8", "int8", "int8", "text", "numeric", "numeric", "numeric", "numeric",
        "timestamptz", "timestamptz", "timestamptz",
    ),
)
KINDS = {
    **dict.fromkeys(QUANTITIES, "decimal"),
    "as_of": "datetime",
    "created_at": "datetime",
    "updated_at": "datetime",
}
CREATED_AT = SPEC.columns.index("created_at")


def ingest_stock(source: Source, records: Iterable[StockLevel]) -> IngestCounts:
    resolver = MappingResolver(source)
    return in_batches(records, lambda chunk, counts: _ingest_batch(source, chunk, resolver, counts))


def _validated(chunk: list[StockLevel], counts: IngestCounts):
    for r in chunk:
        try:
            key = (
                v.text(r.location_external_id, "location id", 255, required=True),
                v.text(r.item_external_id, "item id", 255, required=True),
                bool(r.item_id_is_secondary),
            )
            quantities = tuple(v.decimal_or_none(getattr(r, name), name) for name in QUANTITIES)
            yield key, v.aware(r.as_of, "as_of"), (r, quantities)
        except v.BadRecord as error:
            record_error(counts, f"stock {r.location_external_id!s:.40}/{r.item_external_id!s:.40}", error)


def _merged(chunk: list[StockLevel], counts: IngestCounts) -> list[tuple[StockLevel, tuple]]:
    """One entry per (location, item): a provider may report each state as its own record (Square counts), so
    states are merged, newest ``as_of`` first, older ones only filling states the newer did not report."""
    by_key: dict[tuple, tuple] = {}
    for key, _as_of, (record, quantities) in sorted(_validated(chunk, counts), key=lambda e: e[1]):
        held = by_key.get(key)
        if held is not None:
            quantities = tuple(new if new is not None else old for new, old in zip(quantities, held[1], strict=True))
        by_key[key] = (record, quantities)
    return [by_key[key] for key in sorted(by_key)]


def _ingest_batch(source: Source, chunk, resolver: MappingResolver, counts: IngestCounts) -> None:
    levels = _merged(chunk, counts)
    if not levels:
        return
    stores = resolver.resolve_stores({r.location_external_id for r, _ in levels})
    products = resolver.resolve_products({r.item_external_id: "" for r, _ in levels if not r.item_id_is_secondary})
    secondary = resolver.resolve_secondary({r.item_external_id for r, _ in levels if r.item_id_is_secondary})
    now = timezone.now()
    rows_by_key: dict[tuple[int, int], tuple] = {}
    held_stores: set[int] = set()
    held_products: set[int] = set()
    for r, quantities in levels:
        store_mapping_id, store_id = stores[r.location_external_id]
        by = secondary if r.item_id_is_secondary else products
        product_mapping_id, product_id = by[r.item_external_id]
        if store_id is None:
            held_stores.add(store_mapping_id)
        if product_id is None:
            held_products.add(product_mapping_id)
        # A primary and a secondary id can name the same mapping; the later record (newer as_of) wins.
        rows_by_key[(store_mapping_id, product_mapping_id)] = (
            store_mapping_id,
            product_mapping_id,
            source.retailer_id,
            store_id,
            product_id,
            source.provider,
            *quantities,
            r.as_of,
            now,
            now,
        )
    rows = [rows_by_key[key] for key in sorted(rows_by_key)]
    created, updated = upsert(SPEC, adapt_rows(SPEC, rows, KINDS), CREATED_AT)
    counts.created += created
    counts.updated += updated
    counts.unchanged += len(rows) - created - updated
    counts.held += sum(1 for row in rows if row[3] is None or row[4] is None)
    attach_held_rows_bulk(StoreMapping, held_stores)
    attach_held_rows_bulk(ProductMapping, held_products)
