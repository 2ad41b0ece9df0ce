"""What one API page costs inside Django: wall and CPU time per request, no HTTP server or load generator in between.

Fills its own database (``shelfops_bench_api_profile``) the way bench/api.py does (200,000 transactions by default),
then times a few hundred sequential requests per page with Django's test client (the whole middleware chain,
authentication, throttling, filtering, the page query and rendering):
- a filtered page of 100 transactions (the page bench/api.py loads with 4 clients);
- a page of 1,000 transactions by id (a bulk reader's page);
- a page of 100 products and one of the 50 stores (rows nesting ``known_in`` / ``awaiting_match``).

``--baseline-root DIR`` (repeatable) times the same pages served by other checkouts (e.g. ``git worktree add
--detach /tmp/old <commit>``) on the same data, alternately with this one, each in its own process with that checkout
first on the path. The older code only reads, so the database this checkout migrated serves all of them.

    .venv/bin/python bench/api_profile.py [--scale 0.2] [--requests 300] [--baseline-root DIR ...] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "--measure-store" not in sys.argv:  # the per-checkout child imports the checkout its PYTHONPATH names
    sys.path.insert(0, str(ROOT))

from _benchdb import database_urls, recreate_database  # noqa: E402  (bench/ is the script's own folder)

BENCH_DB = "shelfops_bench_api_profile"
WARM = 30


def pages(store_id: int) -> dict[str, str]:
    return {
        "transactions_100_filtered": f"/api/v1/transactions/?store={store_id}&occurred_after=2025-02-01T00:00:00Z"
                                     "&occurred_before=2025-12-01T00:00:00Z&page_size=100",
        "transactions_1000_by_id": "/api/v1/transactions/?ordering=id&page_size=1000",
        "products_100": "/api/v1/products/?page_size=100",
        "stores_50": "/api/v1/stores/?page_size=100",
    }


def measure_here(store_id: int, requests: int) -> dict:
    """In a process of its own, with the checkout under test first on the path (see main)."""
    import django

    django.setup()
    from django.test import Client

    from inventory.models import ApiToken, Retailer

    _, key = ApiToken.issue(Retailer.objects.get(slug="bench-acme"), "profile")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    figures = {}
    for name, url in pages(store_id).items():
        for _ in range(WARM):
            answer = client.get(url)
            if answer.status_code != 200 or not answer.json()["results"]:
                raise SystemExit(f"{url}: {answer.status_code} {answer.content[:300]!r}")
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            client.get(url)
        figures[name] = {
            "wall_ms_per_request": round((time.perf_counter() - wall) / requests * 1000, 2),
            "cpu_ms_per_request": round((time.process_time() - cpu) / requests * 1000, 2),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.2, help="of bench/api.py's full size (1M transactions)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--baseline-root", type=Path, action="append", default=[])
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--measure-store", type=int, help=argparse.SUPPRESS)  # the per-checkout child process
    args = parser.parse_args()
    if args.measure_store is not None:
        print(json.dumps(measure_here(args.measure_store, args.requests)))
        return

    import api  # bench/api.py: the same data

    admin_url, bench_url = database_urls(BENCH_DB, "bench/api_profile.py")
    env = {
        **os.environ, "DATABASE_URL": bench_url, "DJANGO_SETTINGS_MODULE": "shelfops.settings", "DEBUG": "false",
        "LOG_LEVEL": "WARNING", "VAR_DIR": os.environ.get("BENCH_VAR_DIR", "/tmp/shelfops-bench-api-profile"),
        "API_THROTTLE_RATE": "100000000/min",  # measure the page, not the throttle's refusals
    }
    os.environ.update(env)
    recreate_database(admin_url, BENCH_DB)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0, interactive=False)
        n_transactions = int(api.FULL_TRANSACTIONS * args.scale)
        api.step(f"filling {n_transactions:,} transactions")
        ids = api.fill(n_transactions, int(api.FULL_LEVELS * args.scale))
        connections.close_all()

        roots = [*(root.resolve() for root in args.baseline_root), ROOT]
        results: dict[str, list[dict]] = {str(root): [] for root in roots}
        for _ in range(2):  # alternately, so drift affects every checkout alike
            for root in roots:
                api.step(f"timing pages served by {root}")
                child = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--measure-store", str(ids["store"]),
                     "--requests", str(args.requests)],
                    cwd=root, env={**env, "PYTHONPATH": str(root)}, capture_output=True, text=True,
                )
                if child.returncode != 0:
                    raise SystemExit(f"{root}: {child.stderr[-2000:]}")
                results[str(root)].append(json.loads(child.stdout.strip().splitlines()[-1]))
        # The better of the two rounds per page: the cost of the code, less whatever else the machine did meanwhile.
        best = {
            root: {page: {k: min(run[page][k] for run in runs) for k in runs[0][page]} for page in runs[0]}
            for root, runs in results.items()
        }
        result = {
            "finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "transactions": ids["transactions"],
            "requests_per_page": args.requests,
            "current": str(ROOT),
            "per_checkout_best_of_2": best,
        }
        print(json.dumps(result, indent=2))
        out = ROOT / "bench" / "results" / "api_profile.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            recreate_database(admin_url, BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()
