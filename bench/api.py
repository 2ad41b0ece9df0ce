"""REST API benchmark: transactions/ filtered by store and date, first page vs a deep cursor page, under gunicorn.

Builds its own PostgreSQL database (``shelfops_bench_api`` on the server of DATABASE_URL; dropped at the end
unless --keep), fills it with INSERT ... SELECT generate_series (not the ORM), starts gunicorn on a free port and
measures over HTTP:
- p50/p99 latency of the first page and of a deep cursor page (90 % into the filtered rows), one client;
- requests/s with 4 concurrent clients (alternating first and deep pages), and their p50/p99, twice: with
  Python clients (threads with requests, as the issue measured) and with wrk (a C load generator, which leaves the
  2 cores to the server; bench/wrk_api.lua checks every answer);
- a full read of the retailer's transactions through pages of 1,000, through the export (NDJSON) and with
  PostgreSQL's own COPY of the same rows (the ceiling), in the same run, with the web workers' peak RSS.

Default: 200,000 transactions + 20,000 inventory levels (a quick run). ``--full`` (or ``--scale 1``) is the
issue's size: 1,000,000 transactions + 100,000 levels. The JSON says which ran.

    .venv/bin/python bench/api.py [--full | --scale 0.2] [--requests 300] [--seconds 10] [--keep]
        [--baseline-root /path/to/older/checkout]

``--baseline-root`` measures the pages twice in the same run, on the same data: served by that checkout (e.g. a
``git worktree`` of the commit before a change, run with this venv) and by this one, alternately (baseline,
current, baseline, current), and reports current/baseline ratios. The older code only reads, so the database
migrated and filled by this checkout serves both.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _benchdb import database_urls, recreate_database  # noqa: E402  (bench/ is the script's own folder)
from _webhooks_wrk import WRK  # noqa: E402
from _webhooks_wrk import available as wrk_available  # noqa: E402

BENCH_DB = "shelfops_bench_api"
STORES, PRODUCTS = 50, 2000
FULL_TRANSACTIONS, FULL_LEVELS = 1_000_000, 100_000
SPAN_DAYS = 365
PAGE_SIZE = 100


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="1,000,000 transactions + 100,000 levels")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_API_SCALE", "0.2")))
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per page kind")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the concurrent phase")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: cores)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--baseline-root", type=Path, help="another checkout to serve the same pages, for a ratio")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of baseline and current")
    args = parser.parse_args()
    if args.full:
        args.scale = 1.0
    return args


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fill(n_transactions: int, n_levels: int) -> dict:
    """Two retailers (the second is noise the tenant filter must skip); 50 stores x 2000 products for the first.
    Returns ids the requests need."""
    from django.db import connection

    from inventory.models import ApiToken, Product, ProductMapping, Retailer, Store, StoreMapping

    acme = Retailer.objects.create(name="Bench Acme", slug="bench-acme")
    rival = Retailer.objects.create(name="Bench Rival", slug="bench-rival")
    for retailer in (acme, rival):
        stores = Store.objects.bulk_create(
            Store(retailer=retailer, name=f"store {i}", code=f"S{i}") for i in range(STORES)
        )
        StoreMapping.objects.bulk_create(
            StoreMapping(retailer=retailer, provider="square", external_account_id=f"{retailer.slug}-m",
                         external_id=f"L{i}", store=s)
            for i, s in enumerate(stores)
        )
        products = Product.objects.bulk_create(
            Product(retailer=retailer, sku=f"SKU-{j}", barcode=f"{j:013d}", name=f"product {j}")
            for j in range(PRODUCTS)
        )
        ProductMapping.objects.bulk_create(
            ProductMapping(retailer=retailer, provider="square", external_account_id=f"{retailer.slug}-m",
                           external_id=f"V{j}", product=p, sku=p.sku)
            for j, p in enumerate(products)
        )
    with connection.cursor() as cur:
        cur.execute("""
            CREATE TEMP TABLE bench_s AS SELECT s.retailer_id, s.id, m.id AS map_id,
                row_number() OVER (PARTITION BY s.retailer_id ORDER BY s.id) - 1 AS idx
            FROM inventory_store s JOIN inventory_storemapping m ON m.store_id = s.id;
            CREATE TEMP TABLE bench_p AS SELECT p.retailer_id, p.id, p.sku, m.id AS map_id,
                row_number() OVER (PARTITION BY p.retailer_id ORDER BY p.id) - 1 AS idx
            FROM inventory_product p JOIN inventory_productmapping m ON m.product_id = p.id;
            CREATE INDEX ON bench_s (retailer_id, idx); CREATE INDEX ON bench_p (retailer_id, idx);
        """)
        # 90 % of the lines belong to the measured retailer, spread evenly over stores, products and a year.
        for retailer_id, count in ((acme.id, n_transactions * 9 // 10), (rival.id, n_transactions // 10)):
            cur.execute(
                """
                INSERT INTO inventory_transaction (retailer_id, store_id, product_id, store_mapping_id,
                    product_mapping_id, source, external_account_id, external_order_id, external_line_id, sku,
                    quantity, unit_price, currency, state, occurred_at, order_updated_at, created_at, updated_at,
                    refund_of_order_id, refund_of_line_id)
                SELECT %(r)s, s.id, p.id, s.map_id, p.map_id, 'square', 'bench-m' || %(r)s, 'O' || g, '0', p.sku,
                    (g %% 5) + 1, 9.99, 'USD', 'completed', ts, ts, now(), ts, '', ''
                FROM (SELECT g, timestamptz '2025-01-01 00:00:00+00'
                             + make_interval(secs => g::float8 * %(span)s / %(n)s) AS ts
                      FROM generate_series(1, %(n)s) AS g) AS series
                JOIN bench_s s ON s.retailer_id = %(r)s AND s.idx = g %% %(stores)s
                JOIN bench_p p ON p.retailer_id = %(r)s AND p.idx = (g / %(stores)s) %% %(products)s
                """,
                {"r": retailer_id, "n": count, "span": SPAN_DAYS * 86400, "stores": STORES, "products": PRODUCTS},
            )
        cur.execute(
            """
            INSERT INTO inventory_inventorylevel (retailer_id, store_mapping_id, product_mapping_id, store_id,
                product_id, source, available, on_hand, committed, incoming, as_of, created_at, updated_at)
            SELECT %(r)s, s.map_id, p.map_id, s.id, p.id, 'square', g %% 40, g %% 40 + 2, 2, NULL,
                now() - make_interval(mins => g %% 10000), now(), now()
            FROM generate_series(0, %(n)s - 1) AS g
            JOIN bench_s s ON s.retailer_id = %(r)s AND s.idx = g %% %(stores)s
            JOIN bench_p p ON p.retailer_id = %(r)s AND p.idx = g / %(stores)s
            """,
            {"r": acme.id, "n": n_levels, "stores": STORES},
        )
        cur.execute("ANALYZE")
        cur.execute("SELECT count(*) FROM inventory_transaction")
        transactions = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM inventory_inventorylevel")
        levels = cur.fetchone()[0]
    store = Store.objects.filter(retailer=acme).order_by("id")[STORES // 2]
    _, key = ApiToken.issue(acme, "bench")
    return {"store": store.pk, "key": key, "transactions": transactions, "levels": levels, "retailer": acme.pk}


def deep_cursor(store_id: int, after: str, before: str) -> tuple[str, int]:
    """The cursor a client holds after paging 90 % into the filtered rows (found with one OFFSET query here,
    instead of walking there page by page)."""
    from inventory.api.pagination import encode_position
    from inventory.models import Transaction

    rows = Transaction.objects.filter(store_id=store_id, occurred_at__gte=after, occurred_at__lt=before)
    total = rows.count()
    row = rows.order_by("occurred_at", "id")[deep_position(total)]
    return encode_position("occurred_at", False, row.occurred_at, row.pk), total


def deep_position(total: int) -> int:
    return max(0, min(int(total * 0.9), total - PAGE_SIZE - 1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, workers: int, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """gunicorn serving the checkout at ``root`` (this venv's gunicorn; the checkout first on the path)."""
    import requests

    port = free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "shelfops.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", str(workers), "--log-level", "warning"],
        cwd=root, env={**env, "PYTHONPATH": str(root)},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.5)
    proc.terminate()
    proc.wait(10)
    raise SystemExit("gunicorn did not start")


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"n": len(ordered), "p50_ms": round(q[49] * 1000, 2), "p99_ms": round(q[98] * 1000, 2)}


def timed_get(session, url: str) -> float:
    start = time.perf_counter()
    answer = session.get(url, timeout=30)
    elapsed = time.perf_counter() - start
    if answer.status_code != 200 or len(answer.json()["results"]) != PAGE_SIZE:
        raise SystemExit(f"unexpected answer {answer.status_code} from {url}: {answer.text[:300]}")
    return elapsed


def measure(base: str, key: str, first_url: str, deep_url: str, args) -> dict:
    import requests

    headers = {"Authorization": f"Token {key}"}
    session = requests.Session()
    session.headers.update(headers)
    for _ in range(20):  # warm every worker's connection and the page cache
        timed_get(session, first_url)
        timed_get(session, deep_url)
    first, deep = [], []
    for _ in range(args.requests):  # interleaved, so drift affects both equally
        first.append(timed_get(session, first_url))
        deep.append(timed_get(session, deep_url))

    stop = time.monotonic() + args.seconds
    latencies: list[list[float]] = [[] for _ in range(args.clients)]

    def client(i: int):
        own = requests.Session()
        own.headers.update(headers)
        urls = (first_url, deep_url)
        n = i
        while time.monotonic() < stop:
            latencies[i].append(timed_get(own, urls[n % 2]))
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    started, cpu_started = time.monotonic(), time.process_time()  # this process = the client threads
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, client_cpu = time.monotonic() - started, time.process_time() - cpu_started
    concurrent = [x for per in latencies for x in per]
    figures = {
        "first_page": percentiles(first),
        "deep_page": percentiles(deep),
        "deep_over_first_p50": round(statistics.median(deep) / statistics.median(first), 3),
        "deep_over_first_p99": round(percentiles(deep)["p99_ms"] / percentiles(first)["p99_ms"], 3),
        "concurrent": {
            "client": "python threads (requests)",
            "clients": args.clients,
            "seconds": round(elapsed, 2),
            "requests": len(concurrent),
            "requests_per_second": round(len(concurrent) / elapsed, 1),
            # CPU the Python clients themselves used per request, on the same cores as the server.
            "client_cpu_ms_per_request": round(client_cpu / len(concurrent) * 1000, 2),
            **percentiles(concurrent),
        },
    }
    wrk = wrk_load(key, first_url, deep_url, args)
    if wrk is not None:
        figures["concurrent_wrk"] = wrk
    return figures


def wrk_load(key: str, first_url: str, deep_url: str, args) -> dict | None:
    """The concurrent phase again with wrk (bench/wrk_api.lua): the same pages and clients, but the load generator
    costs next to no CPU, so the figure is the server's (the Python clients take a large share of the 2 cores).
    None when wrk is not installed (``make bench`` installs it)."""
    if not wrk_available():
        return None
    with tempfile.TemporaryDirectory(prefix="bench-api-wrk-") as tmp:
        result = Path(tmp) / "result.txt"
        first, deep = urlsplit(first_url), urlsplit(deep_url)
        proc = subprocess.run(
            [WRK, "-t", str(args.clients), "-c", str(args.clients), "-d", f"{max(1, round(args.seconds))}s",
             "--timeout", "5s", "-s", str(ROOT / "bench" / "wrk_api.lua"), f"{first.scheme}://{first.netloc}/"],
            env={"PATH": "/usr/bin:/bin", "WRK_API_TOKEN": key, "WRK_API_FIRST": f"{first.path}?{first.query}",
                 "WRK_API_DEEP": f"{deep.path}?{deep.query}", "WRK_API_ROWS": str(PAGE_SIZE),
                 "WRK_API_RESULT": str(result)},
            capture_output=True, text=True,
        )
        if proc.returncode != 0 or not result.exists():
            raise SystemExit(f"wrk failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        good = bad = 0
        for line in result.read_text().splitlines():
            parts = line.split()
            if parts[0] == "summary":
                duration_us, responses, connect, read, write, status, timeout, p50, p99, worst = map(int, parts[1:])
            else:
                good, bad = good + int(parts[2]), bad + int(parts[3])
    # gunicorn's sync workers close the connection after each answer ("Connection: close", which wrk follows
    # without counting an error), so any socket error here is a real failure, as is any answer that was not a
    # full page.
    if bad or connect or read or write or timeout or good != responses:
        raise SystemExit(f"wrk: {bad} bad answers of {responses}; socket errors connect {connect}, read {read}, "
                         f"write {write}, timeout {timeout}")
    return {
        "client": "wrk (bench/wrk_api.lua)",
        "clients": args.clients,
        "seconds": round(duration_us / 1e6, 2),
        "requests": responses,
        "requests_per_second": round(responses / (duration_us / 1e6), 1),
        # wrk's own percentiles (they include its coordinated-omission correction, see bench/wrk_webhooks.lua).
        "p50_ms": round(p50 / 1000, 2),
        "p99_ms": round(p99 / 1000, 2),
        "max_ms": round(worst / 1000, 2),
    }


def against_baseline(rounds: list[dict]) -> dict:
    """Requests/s of the current checkout over the baseline's, per load generator, from all rounds (requests over
    seconds, summed per server), with every round's figures."""
    ratios = {}
    for kind in ("concurrent", "concurrent_wrk"):
        totals = {}
        for server in ("baseline", "current"):
            mine = [r[kind] for r in rounds if r["server"] == server and kind in r]
            if mine:
                totals[server] = sum(m["requests"] for m in mine) / sum(m["seconds"] for m in mine)
        if len(totals) == 2:
            ratios[kind] = {"baseline_requests_per_second": round(totals["baseline"], 1),
                            "current_requests_per_second": round(totals["current"], 1),
                            "current_over_baseline": round(totals["current"] / totals["baseline"], 2)}
    return {"ratios": ratios, "rounds": [
        {"server": r["server"], "root": r["root"], "first_page_p50_ms": r["first_page"]["p50_ms"],
         **{kind: {k: r[kind][k] for k in ("requests_per_second", "p50_ms", "p99_ms", "client_cpu_ms_per_request")
                   if k in r[kind]}
            for kind in ("concurrent", "concurrent_wrk") if kind in r}}
        for r in rounds
    ]}


def worker_pids(master_pid: int) -> list[int]:
    path = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def rss_mb(pids: list[int]) -> float:
    """The largest resident set among the processes, in MB (the export runs in one of them)."""
    largest = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    largest = max(largest, int(line.split()[1]))
        except OSError:
            continue
    return round(largest / 1024, 1)


def bulk_read(base: str, key: str, retailer_id: int, bench_url: str, master_pid: int) -> dict:
    """All of one retailer's transactions three ways, in the same run: pages of 1,000 through the API, the export
    (NDJSON, streamed), and PostgreSQL's own COPY of the same rows (the ceiling). Peak RSS of the gunicorn workers
    is sampled while the export streams."""
    import psycopg
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Token {key}"

    start, rows, url = time.perf_counter(), 0, f"{base}/api/v1/transactions/?page_size=1000&ordering=id"
    while url:
        body = session.get(url, timeout=120).json()
        rows += len(body["results"])
        url = body["next"] if body["has_more"] else None
    paged = {"rows": rows, "seconds": round(time.perf_counter() - start, 2)}

    pids = worker_pids(master_pid)
    rss_before, peak, sampling = rss_mb(pids), [0.0], threading.Event()

    def sample():
        while not sampling.is_set():
            peak[0] = max(peak[0], rss_mb(pids))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start, rows = time.perf_counter(), 0
    with session.get(f"{base}/api/v1/transactions/export/", stream=True, timeout=600) as answer:
        for chunk in answer.iter_content(256 * 1024):
            rows += chunk.count(b"\n")
    exported = {"rows": rows - 1, "seconds": round(time.perf_counter() - start, 2)}  # minus the resume line
    sampling.set()
    sampler.join()

    start, rows = time.perf_counter(), 0
    with psycopg.connect(bench_url) as conn, conn.cursor() as cur:
        with cur.copy("COPY (SELECT * FROM inventory_transaction WHERE retailer_id = %s) TO STDOUT", [retailer_id]) \
                as copy:
            for block in copy:
                rows += bytes(block).count(b"\n")
    copied = {"rows": rows, "seconds": round(time.perf_counter() - start, 2)}

    for figures in (paged, exported, copied):
        figures["rows_per_second"] = round(figures["rows"] / figures["seconds"])
    return {
        "pages_of_1000": paged,
        "export_ndjson": {**exported, "worker_rss_mb_before": rss_before, "worker_rss_mb_peak": peak[0]},
        "copy_ceiling": copied,
        "export_over_copy": round(exported["rows_per_second"] / copied["rows_per_second"], 3),
        "export_over_pages": round(exported["rows_per_second"] / paged["rows_per_second"], 1),
    }


def explain(store_id: int, after: str, before: str, cursor_row) -> str:
    """The plan of the deep page's query, to show it is an index range scan from the cursor."""
    from django.db.models import Q

    from inventory.models import Transaction

    qs = (
        Transaction.objects.filter(retailer_id=cursor_row.retailer_id, store_id=store_id, occurred_at__gte=after,
                                   occurred_at__lt=before)
        .filter(occurred_at__gte=cursor_row.occurred_at)
        .filter(Q(occurred_at__gt=cursor_row.occurred_at) | Q(occurred_at=cursor_row.occurred_at,
                                                              id__gt=cursor_row.id))
        .order_by("occurred_at", "id")[:PAGE_SIZE + 1]
    )
    return qs.explain()


def main() -> None:
    args = parse_args()
    n_transactions, n_levels = int(FULL_TRANSACTIONS * args.scale), int(FULL_LEVELS * args.scale)
    admin_url, bench_url = database_urls(BENCH_DB, "bench/api.py")
    var_dir = os.environ.get("BENCH_VAR_DIR", "/tmp/shelfops-bench-api")
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DJANGO_SETTINGS_MODULE": "shelfops.settings",
        "VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "API_THROTTLE_RATE": "100000000/min",  # measure the API, not the throttle
    }
    os.environ.update(env)
    recreate_database(admin_url, BENCH_DB)
    proc = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        step("migrating")
        call_command("migrate", verbosity=0, interactive=False)
        step(f"filling {n_transactions:,} transactions and {n_levels:,} levels")
        t0 = time.perf_counter()
        ids = fill(n_transactions, n_levels)
        fill_seconds = time.perf_counter() - t0
        print(f"filled {ids['transactions']:,} transactions, {ids['levels']:,} levels in {fill_seconds:.1f}s")

        after, before = "2025-02-01T00:00:00Z", "2025-12-01T00:00:00Z"
        cursor, filtered = deep_cursor(ids["store"], after, before)
        query = f"store={ids['store']}&occurred_after={after}&occurred_before={before}&page_size={PAGE_SIZE}"
        from django.db import connections

        from inventory.models import Transaction

        row = (Transaction.objects.filter(store_id=ids["store"], occurred_at__gte=after, occurred_at__lt=before)
               .order_by("occurred_at", "id")[deep_position(filtered)])
        plan = explain(ids["store"], after, before, row)
        connections.close_all()

        servers = [("current", ROOT)]
        if args.baseline_root:
            servers = [("baseline", args.baseline_root.resolve()), ("current", ROOT)] * args.rounds
        rounds: list[dict] = []
        for n, (name, root) in enumerate(servers):
            step(f"starting gunicorn ({name}: {root})")
            proc, base = start_gunicorn(env, args.workers, root)
            step("measuring")
            first_url = f"{base}/api/v1/transactions/?{query}"
            deep_url = f"{first_url}&cursor={cursor}"
            figures = measure(base, ids["key"], first_url, deep_url, args)
            rounds.append({"server": name, "root": str(root), **figures})
            if n == len(servers) - 1:  # the last server is this checkout's
                step("bulk read: pages of 1,000, export, COPY")
                figures["bulk_read"] = bulk_read(base, ids["key"], ids["retailer"], bench_url, proc.pid)
            proc.terminate()
            proc.wait(10)
            proc = None
        if args.baseline_root:
            figures["against_baseline"] = against_baseline(rounds)
        result = {
            "ran": "full" if args.scale >= 1 else f"scale {args.scale}",
            "finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "transactions": ids["transactions"],
            "inventory_levels": ids["levels"],
            "filter": {"store": ids["store"], "occurred_after": after, "occurred_before": before,
                       "rows_matching": filtered, "deep_page_position": "90 %", "page_size": PAGE_SIZE},
            "gunicorn_workers": args.workers,
            "fill_seconds": round(fill_seconds, 1),
            **figures,
            "target": "p99 < 50 ms for both pages; deep page no slower than the first; export >= 0.25 of COPY "
                      "with flat worker RSS; pages of 100 at 4 clients >= 2x the requests/s of the code before",
            "deep_page_plan": plan,
        }
        print(json.dumps({k: v for k, v in result.items() if k != "deep_page_plan"}, indent=2))
        print("deep page plan:\n" + plan)
        out = ROOT / "bench" / "results" / "api.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            recreate_database(admin_url, BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()
