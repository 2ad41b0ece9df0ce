"""Ingest benchmark (issue 7): Square order lines from the sandbox's data generator into PostgreSQL through the
real path, the Square orders stream (HTTP to the sandbox, 1000 orders per page, mapper) -> sync engine (cursor
and counts per page) -> ``inventory.ingest.ingest_sales``, with the sandbox's rate limits off.

Figures, each size in a fresh process so peak RSS is its own:
- end to end: lines/s and peak RSS at two sizes (default 100k and 300k; ``--full``: 100k and 1M);
- baseline: the seed note's shape, one ``Transaction.objects.create`` per line after looking its store and product
  up (``create_transaction`` in a loop), over the same stream, on a 20,000-line sample; the ratio to end to end;
- the ingest step alone (normalized records -> table) against a raw ``COPY`` of the same rows into the same table.

    .venv/bin/python bench/ingest.py [--full] [--sizes 100000,1000000] [--step-lines 200000]

Hygiene: the benchmark runs in a database of its own (DATABASE_URL's name + ``_ingest``) and starts every
measurement from empty tables (TRUNCATE, then ANALYZE). Deleting rows instead left dead tuples behind that a
server with autovacuum off never reclaims; the old shared bench database had bloated so much that a raw COPY ran
at 12.9k rows/s instead of 34k on a fresh one.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from _setup import peak_rss_mb, setup, write_result

DB_SUFFIX = "_ingest"
# Every table a child fills (directly, or through the sync engine and the client's call log); CASCADE takes what
# hangs off them (levels, schedules). Only ever run against this benchmark's own database (see ``own_database``).
FILLED_TABLES = (
    "inventory_transaction", "inventory_storemapping", "inventory_productmapping", "inventory_store",
    "inventory_product", "inventory_retailer", "integrations_connection", "integrations_syncrun",
    "integrations_synccursor", "integrations_syncschedule", "integrations_apicalllog",
)

TOKEN = "bench-ingest-square-token"
LINES_PER_ORDER = 2.5  # the generator's mean (1 to 4 lines per order)


# --- the sandbox, in its own process ----------------------------------------------------------------------------
def _serve(lines: int, out) -> None:
    from sandbox.changes import default_account
    from sandbox.data import Sizes
    from sandbox.server import SandboxServer
    from sandbox.state import SandboxConfig

    sizes = Sizes(products=1000, locations=5, orders=max(1, int(lines / LINES_PER_ORDER)))
    server = SandboxServer(SandboxConfig(sizes=sizes, duplicate_webhook_probability=0.0,
                                         portal_base_url="http://127.0.0.1:9"))
    account = default_account(server.state, "square")
    server.state.issue_token("square", account, server.state.config.square_client_id, "access", None,
                             scopes=["MERCHANT_PROFILE_READ", "ITEMS_READ", "INVENTORY_READ", "ORDERS_READ"],
                             value=TOKEN)
    m = server.state.merchant("square", account)
    out.put({"url": server.url, "account": account, "lines": m.count_order_lines(), "orders": m.order_count})
    server.serve_forever()


def start_sandbox(lines: int):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_serve, args=(lines, out), daemon=True)
    proc.start()
    return proc, out.get(timeout=600)


def own_database() -> None:
    """Point DATABASE_URL at this benchmark's own database (created and migrated by ``setup``)."""
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    name = url.path.lstrip("/")
    if name and not name.endswith(DB_SUFFIX):
        os.environ["DATABASE_URL"] = url._replace(path=f"/{name}{DB_SUFFIX}").geturl()


def clean_tables() -> None:
    """Empty every table the benchmark fills and refresh the planner's statistics: each measurement starts from
    the same state, with no dead tuples and no stale row counts."""
    from django.db import connection as db

    name = db.settings_dict["NAME"]
    assert name.endswith(DB_SUFFIX), f"refusing to truncate tables of {name!r}: not the benchmark's own database"
    with db.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(FILLED_TABLES)} RESTART IDENTITY CASCADE")
        cursor.execute(f"ANALYZE {', '.join(FILLED_TABLES)}")


def connection_for(info: dict, slug: str):
    from django.conf import settings

    from integrations.models import Connection
    from inventory.models import Retailer

    settings.SQUARE_BASE_URL = f"{info['url']}/square"
    clean_tables()
    retailer = Retailer.objects.create(slug=slug, name=slug)
    return Connection.objects.create(retailer=retailer, provider="square", external_account_id=info["account"],
                                     status=Connection.Status.ACTIVE, access_token=TOKEN)


def run_stream(connection, stream: str):
    from integrations.sync import engine, services

    run = services.create_run(connection, stream, full=True, trigger="command")
    return engine.execute(run.pk)


# --- children ---------------------------------------------------------------------------------------------------
def child_end_to_end(lines: int) -> dict:
    proc, info = start_sandbox(lines)
    try:
        connection = connection_for(info, "bench-ingest-e2e")
        for stream in ("locations", "catalog"):
            assert run_stream(connection, stream).status == "succeeded"
        started = time.perf_counter()
        run = run_stream(connection, "orders")
        seconds = time.perf_counter() - started
    finally:
        proc.terminate()
    assert run.status == "succeeded", run.error
    from inventory.models import Transaction

    stored = Transaction.objects.filter(retailer=connection.retailer).count()
    assert stored == info["lines"], (stored, info["lines"])
    return {"lines": stored, "orders": info["orders"], "pages": run.pages, "seconds": round(seconds, 2),
            "lines_per_second": round(stored / seconds), "peak_rss_mb": round(peak_rss_mb(), 1)}


def child_baseline(lines: int) -> dict:
    """The seed note's way: per line, look the store and product up, then create one row through the ORM."""
    from django.db import transaction

    from integrations.http import client_for
    from integrations.providers.square.streams import SquareOrders
    from inventory.models import ProductMapping, StoreMapping, Transaction

    proc, info = start_sandbox(lines)
    try:
        connection = connection_for(info, "bench-ingest-baseline")
        for stream in ("locations", "catalog"):
            assert run_stream(connection, stream).status == "succeeded"
        retailer = connection.retailer
        done = 0
        started = time.perf_counter()
        for page in SquareOrders(connection, client_for(connection)).pages(None):
            for line in page.records:
                with transaction.atomic():  # each create_transaction() call is its own unit of work
                    store = StoreMapping.objects.get(provider="square", external_account_id=info["account"],
                                                     external_id=line.location_external_id)
                    product = ProductMapping.objects.get(provider="square", external_account_id=info["account"],
                                                         external_id=line.item_external_id)
                    Transaction.objects.create(
                        retailer=retailer, store_id=store.store_id, product_id=product.product_id,
                        store_mapping=store, product_mapping=product, source="square",
                        external_account_id=info["account"], external_order_id=line.order_external_id,
                        external_line_id=line.line_external_id, sku=line.sku, quantity=line.quantity,
                        unit_price=line.unit_price, currency=line.currency, state=line.state,
                        occurred_at=line.occurred_at, order_updated_at=line.order_updated_at)
                done += 1
        seconds = time.perf_counter() - started
    finally:
        proc.terminate()
    return {"lines": done, "seconds": round(seconds, 2), "lines_per_second": round(done / seconds),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def child_step(lines: int) -> dict:
    """The ingest step alone on records already mapped (from the generator, through the Square mapper), against
    COPY of the same resolved rows into the same table: the ceiling of this machine."""
    from datetime import UTC, datetime

    from django.db import connection as db
    from django.db import transaction

    from integrations.providers.square.mappers import map_order
    from inventory.ingest import ingest_items, ingest_locations, ingest_sales
    from inventory.ingest.resolve import MappingResolver
    from inventory.models import Retailer, Transaction
    from inventory.records import Item, Location, Source
    from sandbox.data import Merchant, Sizes
    from sandbox.square.objects import SquareIds, order_json

    m = Merchant("bench-step", Sizes(products=1000, locations=5, orders=int(lines / LINES_PER_ORDER)))
    ids = SquareIds(m)
    records = [r for o in m.iter_orders() for r in map_order(order_json(m, o))]
    clean_tables()
    retailer = Retailer.objects.create(slug="bench-ingest-step", name="bench-ingest-step")
    source = Source(retailer.pk, "square", "BENCH-STEP")
    ingest_locations(source, [Location(ids.location(i), f"Store {i}") for i in range(m.sizes.locations)])
    ingest_items(source, [Item(ids.variation(v), sku=m.variant(v).sku, name=m.variant(v).title)
                          for v in range(m.sizes.variants)])
    table = Transaction._meta.db_table

    def clear():
        with db.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute(f"ANALYZE {table}")

    clear()
    started = time.perf_counter()
    counts = ingest_sales(source, records, replace_orders=True)
    ingest_seconds = time.perf_counter() - started
    assert counts.created == len(records), counts
    started = time.perf_counter()
    again = ingest_sales(source, records, replace_orders=True)
    rerun_seconds = time.perf_counter() - started

    resolver = MappingResolver(source)
    stores = resolver.resolve_stores({r.location_external_id for r in records})
    products = resolver.resolve_products({r.item_external_id: "" for r in records})
    clear()
    cols = ("source, external_account_id, external_order_id, external_line_id, retailer_id, store_mapping_id, "
            "product_mapping_id, store_id, product_id, sku, quantity, unit_price, currency, state, occurred_at, "
            "order_updated_at, created_at, updated_at")
    now = datetime.now(UTC)
    started = time.perf_counter()
    with transaction.atomic(), db.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({cols}) FROM STDIN") as copy:
        for r in records:
            sm, s = stores[r.location_external_id]
            pm, p = products[r.item_external_id]
            copy.write_row(("square", "BENCH-STEP", r.order_external_id, r.line_external_id, retailer.pk, sm, pm,
                            s, p, r.sku, r.quantity, r.unit_price, r.currency, r.state, r.occurred_at,
                            r.order_updated_at, now, now))
    copy_seconds = time.perf_counter() - started
    clear()
    n = len(records)
    return {"lines": n, "ingest_rows_per_second": round(n / ingest_seconds),
            "identical_rerun_rows_per_second": round(n / rerun_seconds), "rerun_unchanged": again.unchanged,
            "copy_rows_per_second": round(n / copy_seconds), "ingest_to_copy": round(copy_seconds / ingest_seconds, 2)}


CHILDREN = {"e2e": child_end_to_end, "baseline": child_baseline, "step": child_step}


def spawn(kind: str, lines: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--lines", str(lines)], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="the issue's full sizes: 100k and 1,000,000 lines")
    parser.add_argument("--sizes", help="comma-separated end-to-end sizes (overrides --full)")
    parser.add_argument("--baseline-lines", type=int, default=20_000)
    parser.add_argument("--step-lines", type=int, default=200_000)
    parser.add_argument("--child", choices=sorted(CHILDREN))
    parser.add_argument("--lines", type=int)
    args = parser.parse_args()
    own_database()
    setup()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.lines)))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [100_000, 1_000_000] if args.full else [100_000, 300_000])
    e2e = []
    for size in sizes:
        result = spawn("e2e", size)
        e2e.append(result)
        print(f"end to end {result['lines']:,} lines: {result['lines_per_second']:,} lines/s "
              f"({result['seconds']}s, {result['pages']} pages), peak RSS {result['peak_rss_mb']} MB")
    baseline = spawn("baseline", args.baseline_lines)
    print(f"baseline (ORM create per line) {baseline['lines']:,} lines: {baseline['lines_per_second']:,} lines/s")
    step = spawn("step", args.step_lines)
    print(f"ingest step alone {step['lines']:,} lines: {step['ingest_rows_per_second']:,} rows/s; raw COPY "
          f"{step['copy_rows_per_second']:,} rows/s; ratio {step['ingest_to_copy']}")
    ratio = round(e2e[0]["lines_per_second"] / baseline["lines_per_second"], 1)
    print(f"end to end / baseline = {ratio}x")
    write_result("ingest", {
        "ran": "full (--full)" if args.full else f"sizes {sizes}",
        "end_to_end": e2e, "baseline_orm_loop": baseline, "end_to_end_over_baseline": ratio,
        "ingest_step_vs_copy": step,
        "targets": {"end_to_end_at_least_20k_lines_per_s": all(r["lines_per_second"] >= 20_000 for r in e2e),
                    "at_least_20x_baseline": ratio >= 20, "step_at_least_0.4_of_copy": step["ingest_to_copy"] >= 0.4,
                    "peak_rss_under_300mb": all(r["peak_rss_mb"] < 300 for r in e2e)},
    })


if __name__ == "__main__":
    main()
