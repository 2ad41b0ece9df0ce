"""Ingest: normalized records (``inventory.records``) -> tables, for webhooks and syncs alike.

Every function is a batched, idempotent upsert keyed by the provider's ids and returns ``IngestCounts``:
re-running the same records writes nothing (``unchanged``), an older version never overwrites a newer one, and
records for locations/items not mapped yet are stored "held" and attached when their mapping resolves.
See ``upsert.py`` for the SQL, ``inventory.mapping`` for the mapping rules.
"""

from inventory.mapping import attach_held_rows

from .catalog import ingest_deletions, ingest_items, ingest_locations, mark_deleted_at_source
from .sales import PreparedSales, ingest_sales, prepare_sales
from .stock import ingest_stock

__all__ = [
    "PreparedSales", "attach_held_rows", "ingest_deletions", "ingest_items", "ingest_locations", "ingest_sales",
    "ingest_stock", "mark_deleted_at_source", "prepare_sales",
]
