"""Quick local measurement of the ingest step alone (normalized SaleLine records -> inventory_transaction) against
a raw COPY of the same rows into the same table. Not part of ``make bench`` (leading underscore); the issue's
bench/ingest.py is the end-to-end one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/so_ingest .venv/bin/python bench/_ingest_step.py --lines 200000
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfops.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from inventory.ingest import ingest_items, ingest_locations, ingest_sales  # noqa: E402
from inventory.models import Retailer, Transaction  # noqa: E402
from inventory.records import Item, Location, SaleLine, Source  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ITEMS, LOCATIONS, LINES_PER_ORDER = 5000, 20, 4


def sale_lines(n: int, version: int = 0):
    for i in range(n):
        order = i // LINES_PER_ORDER
        yield SaleLine(
            order_external_id=f"ORD{order:09d}",
            line_external_id=f"{i % LINES_PER_ORDER}",
            location_external_id=f"LOC{order % LOCATIONS}",
            item_external_id=f"VAR{(i * 7919) % ITEMS}",
            quantity=Decimal("1.5") if i % 3 else Decimal(2 + version),
            occurred_at=T0 + timedelta(seconds=order),
            sku=f"SKU{(i * 7919) % ITEMS}",
            unit_price=Decimal("4.99"),
            currency="USD",
            order_updated_at=T0 + timedelta(seconds=order, minutes=version),
        )


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "set DATABASE_URL to a PostgreSQL database"
    call_command("migrate", verbosity=0)
    retailer, _ = Retailer.objects.get_or_create(slug="bench-ingest", defaults={"name": "Bench ingest"})
    source = Source(retailer.pk, "square", "BENCH")
    ingest_locations(source, (Location(f"LOC{i}", f"Store {i}") for i in range(LOCATIONS)))
    ingest_items(source, (Item(f"VAR{i}", sku=f"SKU{i}", barcode=f"{i:012d}", name=f"Item {i}") for i in range(ITEMS)))
    table = Transaction._meta.db_table

    def clear():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE retailer_id = %s", [retailer.pk])
            cursor.execute(f"VACUUM ANALYZE {table}")

    n = args.lines
    started = time.perf_counter()
    for _ in sale_lines(n):
        pass
    generate = time.perf_counter() - started

    clear()
    started = time.perf_counter()
    counts = ingest_sales(source, sale_lines(n))
    ingest = time.perf_counter() - started - generate
    started = time.perf_counter()
    again = ingest_sales(source, sale_lines(n))
    rerun = time.perf_counter() - started - generate
    started = time.perf_counter()
    edited = ingest_sales(source, sale_lines(n, version=1))
    edit = time.perf_counter() - started - generate

    # The ceiling: COPY of the same (already resolved) rows straight into the table.
    from inventory.ingest.resolve import MappingResolver

    resolver = MappingResolver(source)
    stores = resolver.resolve_stores({f"LOC{i}" for i in range(LOCATIONS)})
    products = resolver.resolve_products({f"VAR{i}": "" for i in range(ITEMS)})
    clear()
    cols = ("source, external_account_id, external_order_id, external_line_id, retailer_id, store_mapping_id, "
            "product_mapping_id, store_id, product_id, sku, quantity, unit_price, currency, state, occurred_at, "
            "order_updated_at, created_at, updated_at")
    now = datetime.now(UTC)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for r in sale_lines(n):
                sm, s = stores[r.location_external_id]
                pm, p = products[r.item_external_id]
                copy.write_row(("square", "BENCH", r.order_external_id, r.line_external_id, retailer.pk, sm, pm, s,
                                p, r.sku, r.quantity, r.unit_price, r.currency, r.state, r.occurred_at,
                                r.order_updated_at, now, now))
    copy_s = time.perf_counter() - started - generate
    clear()

    print(f"lines={n} (generation alone {n / generate:,.0f}/s, subtracted below)")
    print(f"ingest_sales first load: {n / ingest:,.0f} rows/s  {counts.created=} {counts.held=}")
    print(f"ingest_sales identical re-run: {n / rerun:,.0f} rows/s  {again.unchanged=} {again.updated=}")
    print(f"ingest_sales edit of 1/3 lines: {n / edit:,.0f} rows/s  {edited.updated=}")
    print(f"raw COPY ceiling: {n / copy_s:,.0f} rows/s")
    print(f"ingest / COPY = {copy_s / ingest:.2f}   peak RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
