"""Admin dashboard benchmark: server time of the admin home (numbers + charts) on a big database.

Builds its own PostgreSQL database (``shelfops_bench_dashboard`` on the server of DATABASE_URL; dropped at the
end unless --keep), fills it with INSERT ... SELECT generate_series: transactions, webhook events over 30 days
(mostly processed, a backlog of received/queued/failed), sync runs over 30 days for 300 connections x 4 streams,
provider call-log rows over 14 days, and mappings with some unmatched. Then, in-process with Django's test
client (server time only: the view, its queries and the template, no network):
- the first load of each window (24 h, 7 d), which rolls up the closed hours not yet rolled up (once);
- p50/p95/max of repeated loads of each window (what staff see every time after that).

Default: scale 0.05 (a smoke run). ``--full`` (or ``--scale 1``) is the issue's size: 1,000,000 transactions,
1,000,000 webhook events, 100,000 runs (and 200,000 call-log rows). The JSON says which ran.

    .venv/bin/python bench/dashboard.py [--full | --scale 0.2] [--requests 40] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _benchdb import database_urls, recreate_database  # noqa: E402  (bench/ is the script's own folder)

BENCH_DB = "shelfops_bench_dashboard"
FULL = {"transactions": 1_000_000, "events": 1_000_000, "runs": 100_000, "calls": 200_000}
CONNECTIONS, STREAMS = 300, ("locations", "catalog", "inventory", "orders")
PRODUCTS = 10_000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="1M transactions, 1M webhook events, 100k runs")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_DASHBOARD_SCALE", "0.05")))
    parser.add_argument("--requests", type=int, default=40, help="timed loads per window")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    if args.full:
        args.scale = 1.0
    return args


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fill(n: dict) -> dict:
    from django.db import connection
    from django.utils import timezone

    from integrations.models import Connection, SyncSchedule
    from inventory.models import Product, Retailer, Store

    retailers = [Retailer.objects.create(name=f"Bench {i}", slug=f"bench-{i}") for i in range(3)]
    statuses = ["active"] * 8 + ["needs_reconnect", "disconnected"]
    connections = Connection.objects.bulk_create(
        Connection(retailer=retailers[i % 3], provider=("square", "shopify")[i % 2],
                   external_account_id=f"BENCH-{i}", status=statuses[i % len(statuses)],
                   connected_at=timezone.now() - timezone.timedelta(days=60))
        for i in range(CONNECTIONS)
    )
    SyncSchedule.objects.bulk_create(
        SyncSchedule(connection=c, stream=s, interval_seconds=900, enabled=(c.pk % 17 != 0),
                     next_run_at=timezone.now())
        for c in connections for s in STREAMS
    )
    for r in retailers:  # the ORM fills every column's default; the big tables below use SQL
        Store.objects.create(retailer=r, name="store", code="S1")
        Product.objects.bulk_create((Product(retailer=r, sku=f"SKU-{g}", name=f"product {g}")
                                     for g in range(PRODUCTS)), batch_size=5000)
    params = {"conns": CONNECTIONS, "first": connections[0].pk, "products": PRODUCTS, **n}
    with connection.cursor() as cur:
        # Mappings: one store and 10k items per retailer, 5 % of items not yet matched.
        cur.execute("""
            INSERT INTO inventory_storemapping (retailer_id, provider, external_account_id, external_id,
                external_name, automatically_generated, deleted_at_source, created_at, updated_at, store_id)
            SELECT r.id, 'square', 'BENCH-' || r.id, 'L1', '', true, false, now(), now(), s.id
            FROM inventory_retailer r JOIN inventory_store s ON s.retailer_id = r.id;
            INSERT INTO inventory_productmapping (retailer_id, provider, external_account_id, external_id,
                external_name, automatically_generated, deleted_at_source, created_at, updated_at, product_id,
                sku, barcode, secondary_id)
            SELECT p.retailer_id, 'square', 'BENCH-' || p.retailer_id, 'V' || p.id, '', true, false, now(), now(),
                CASE WHEN p.id %% 20 = 0 THEN NULL ELSE p.id END, p.sku, '', ''
            FROM inventory_product p;
        """, params)
        cur.execute("""
            INSERT INTO inventory_transaction (retailer_id, store_id, product_id, store_mapping_id,
                product_mapping_id, source, external_account_id, external_order_id, external_line_id, sku,
                quantity, unit_price, currency, state, occurred_at, order_updated_at, created_at, updated_at,
                refund_of_order_id, refund_of_line_id)
            SELECT m.retailer_id, m.store_id, NULL, m.id, NULL, 'square', 'BENCH', 'O' || g, '0', 'SKU',
                1, 9.99, 'USD', 'completed', now() - make_interval(secs => g %% 31536000),
                now(), now(), now(), '', ''
            FROM generate_series(1, %(transactions)s) g
            JOIN inventory_storemapping m ON m.retailer_id = (SELECT min(id) FROM inventory_retailer) + g %% 3
        """, params)
        # Webhook events over 30 days; the last 2,000 are a backlog (received/queued/processing/failed).
        cur.execute("""
            INSERT INTO integrations_webhookevent (provider, connection_id, external_account_id, event_id, topic,
                headers, body, received_at, status, attempts, enqueued_at, next_attempt_at, processed_at, error,
                traceback, outcome)
            SELECT CASE WHEN g %% 2 = 0 THEN 'square' ELSE 'shopify' END, %(first)s + g %% %(conns)s, '',
                'evt-' || g, (ARRAY['order.updated', 'inventory.count.updated', 'orders/updated'])[1 + g %% 3],
                '{}'::jsonb, '{}'::bytea, ts,
                CASE WHEN g > %(events)s - 2000 THEN (ARRAY['received', 'queued', 'processing', 'failed'])[1 + g %% 4]
                     WHEN g %% 500 = 0 THEN 'failed' ELSE 'processed' END,
                1, ts, NULL, CASE WHEN g > %(events)s - 2000 AND g %% 4 < 3 THEN NULL
                                  ELSE ts + make_interval(secs => 1 + g %% 7) END, '', '', ''
            FROM (SELECT g, now() - make_interval(secs => (%(events)s - g) * 2592000.0 / %(events)s) AS ts
                  FROM generate_series(1, %(events)s) g) s
        """, params)
        cur.execute("""
            INSERT INTO integrations_syncrun (connection_id, stream, status, "full", trigger, created_at,
                started_at, finished_at, heartbeat_at, pages, records_seen, records_created, records_updated,
                records_unchanged, records_held, error, task_id, records_refused, refused_samples)
            SELECT %(first)s + g %% %(conns)s, (ARRAY['locations', 'catalog', 'inventory', 'orders'])[1 + g %% 4],
                CASE WHEN g %% 40 = 0 THEN 'failed' ELSE 'succeeded' END, false, 'schedule', ts, ts,
                ts + interval '20 seconds', ts, 3, 300, g %% 50, g %% 30, 200, 0, '', '', 0, '[]'::jsonb
            FROM (SELECT g, now() - make_interval(secs => (%(runs)s - g) * 2592000.0 / %(runs)s) AS ts
                  FROM generate_series(1, %(runs)s) g) s
        """, params)
        cur.execute("""
            INSERT INTO integrations_apicalllog (connection_id, provider, external_account_id, method, url,
                status_code, duration_ms, attempt, retry_reason, budget_left, request_id, error, created_at)
            SELECT %(first)s + g %% %(conns)s, CASE WHEN g %% 2 = 0 THEN 'square' ELSE 'shopify' END, '', 'GET',
                'https://provider.example/v2/orders', CASE WHEN g %% 97 = 0 THEN 429 WHEN g %% 211 = 0 THEN 503
                ELSE 200 END, 50 + g %% 900, 1, '', '', '', '',
                now() - make_interval(secs => (%(calls)s - g) * 1209600.0 / %(calls)s)
            FROM generate_series(1, %(calls)s) g
        """, params)
        cur.execute("ANALYZE")
        counts = {}
        for table in ("inventory_transaction", "integrations_webhookevent", "integrations_syncrun",
                      "integrations_apicalllog", "inventory_productmapping"):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
    return counts


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1), "max_ms": round(ordered[-1], 1)}


def measure(requests: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-1")
    client = Client()
    client.force_login(user)
    out = {}
    for window in ("24h", "7d"):
        url = f"/admin/?window={window}"
        t0 = time.perf_counter()
        response = client.get(url)
        first = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, response.status_code
        samples = []
        for _ in range(requests):
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        out[window] = {"first_load_ms": round(first, 1), **percentiles(samples), "requests": requests}
    return out


def main() -> None:
    args = parse_args()
    n = {k: max(1000, int(v * args.scale)) for k, v in FULL.items()}
    admin_url, bench_url = database_urls(BENCH_DB, "bench/dashboard.py")
    os.environ.update({"DATABASE_URL": bench_url, "DJANGO_SETTINGS_MODULE": "shelfops.settings",
                       "VAR_DIR": os.environ.get("BENCH_VAR_DIR", "/tmp/shelfops-bench-dashboard"),
                       "LOG_LEVEL": "WARNING", "DEBUG": "false"})
    recreate_database(admin_url, BENCH_DB)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        step("migrating")
        call_command("migrate", verbosity=0, interactive=False)
        step(f"filling {n}")
        t0 = time.perf_counter()
        counts = fill(n)
        fill_seconds = time.perf_counter() - t0
        step(f"filled {counts} in {fill_seconds:.1f}s; health check")
        # What beat's "Check connection health" task keeps current in production: each connection's stored health,
        # which the dashboard counts (rows inserted here by SQL have none yet).
        from integrations.health import refresh_all

        t0 = time.perf_counter()
        refreshed = refresh_all()
        health_seconds = time.perf_counter() - t0
        step(f"refreshed {refreshed} connections' health in {health_seconds:.1f}s; measuring")
        figures = measure(args.requests)
        result = {
            "ran": "full" if args.scale >= 1 else f"scale {args.scale}",
            "rows": counts,
            "connections": CONNECTIONS,
            "fill_seconds": round(fill_seconds, 1),
            "health_check_seconds": round(health_seconds, 1),
            "server_time": figures,
            "target": "p95 < 300 ms (server time) at full scale",
        }
        print(json.dumps(result, indent=2))
        out = ROOT / "bench" / "results" / "dashboard.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(admin_url, BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()
