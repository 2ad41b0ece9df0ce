"""Database housekeeping of bench/webhooks.py: the same starting tables every run, and checkpoints counted."""

from __future__ import annotations


def vacuum() -> None:
    """VACUUM ANALYZE what prepare_accounts and the warm-up deleted from, so every run starts from the same tables.
    Every run reuses the same event ids; without a vacuum the table and its indexes only grow, and an insert's unique
    check may visit the dead entries earlier runs left for its key (seen: 500,000 dead rows, 366 MB, for 13,000 live
    ones, on a server with autovacuum off). Production has autovacuum."""
    from django.db import connection

    from integrations.models import WebhookEvent
    from inventory.models import InventoryLevel, ProductMapping, StoreMapping, Transaction

    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction block
        for model in (WebhookEvent, Transaction, InventoryLevel, StoreMapping, ProductMapping):
            cursor.execute(f'VACUUM ANALYZE "{model._meta.db_table}"')


def pg_checkpoints() -> int | None:
    """Checkpoints the server has run so far (any database). One during a run (timed, or requested: CREATE
    DATABASE by a test suite on the same server forces one) writes out dirty pages, and the next change to every
    page logs a full page image, so the results say when it happened."""
    from django.db import connection

    if connection.pg_version >= 170000:  # the counters moved to pg_stat_checkpointer
        query = "SELECT num_timed + num_requested FROM pg_stat_checkpointer"
    else:
        query = "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]
