"""NetSuite stock sync throughput: the ``inventory`` stream (SuiteQL over ``inventoryitemlocations`` in key windows
under the 100,000-row cap) read through the resilient client from the sandbox, then the same pages ingested.

Figures, same run: rows/s fetched (client + SuiteQL paging + sandbox), rows/s fetched with a 10x smaller row cap
(more key windows: the cost of splitting), rows/s fetched and ingested (PostgreSQL upserts).

    .venv/bin/python bench/netsuite.py                 # default: 10k items x 5 locations = 50k rows (~1 min)
    .venv/bin/python bench/netsuite.py --scale full    # 50k items x 5 = 250k rows, across the 100k cap
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

from _setup import setup

SCALES = {"default": 5_000, "full": 25_000}  # products (2 items each) x 5 locations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=sorted(SCALES), default=os.environ.get("BENCH_SCALE", "default"))
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.utils import timezone

    from integrations.http import client_for
    from integrations.models import Connection
    from integrations.providers.netsuite.streams import NetSuiteInventory
    from integrations.sync.engine import ingest_for, source_for
    from inventory.models import Retailer
    from sandbox.data import Sizes
    from sandbox.server import SandboxServer
    from sandbox.state import SandboxConfig

    sizes = Sizes(products=SCALES[args.scale], locations=5, orders=1)
    server = SandboxServer(SandboxConfig.from_django_settings(sizes=sizes, seed="bench")).start()
    settings.NETSUITE_API_URL_TEMPLATE = f"{server.url}/netsuite/{{account_host}}/suitetalk"
    settings.LOG_LEVEL = "WARNING"
    account = f"{uuid.uuid4().int % 10**7}_SB1"
    retailer = Retailer.objects.create(name="bench netsuite", slug=f"bench-ns-{uuid.uuid4().hex[:8]}")
    token = server.state.issue_token("netsuite", account, server.state.config.netsuite_client_id, "access", 7200,
                                     scopes=["rest_webservices"])
    conn = Connection.objects.create(retailer=retailer, provider="netsuite", external_account_id=account,
                                     status=Connection.Status.ACTIVE, access_token=token,
                                     token_expires_at=timezone.now() + timedelta(hours=2))
    results: dict = {"scale": args.scale, "rows": sizes.variants * sizes.locations}

    def run(label: str, *, cap: int, ingest: bool):
        settings.NETSUITE_SUITEQL_ROW_CAP = cap
        stream = NetSuiteInventory(conn, client_for(conn))
        store = ingest_for("stock") if ingest else None
        source = source_for(conn)
        rows = pages = 0
        start = time.perf_counter()
        for page in stream.pages(None, full=True):
            rows += len(page.records)
            pages += 1
            if store:
                store(source, page.records)
        seconds = time.perf_counter() - start
        results[label] = {"rows": rows, "pages": pages, "cap": cap, "seconds": round(seconds, 2),
                          "rows_per_s": round(rows / seconds)}
        print(f"{label}: {rows} rows, {pages} pages, cap {cap:,} in {seconds:.1f}s = {rows / seconds:,.0f} rows/s")

    try:
        run("fetch", cap=100_000, ingest=False)
        run("fetch_small_windows", cap=10_000, ingest=False)
        run("fetch_and_ingest", cap=100_000, ingest=True)
    finally:
        server.stop()
        retailer.delete()
    fetch = results["fetch"]["rows_per_s"]
    results["small_windows_vs_fetch"] = round(results["fetch_small_windows"]["rows_per_s"] / fetch, 3)
    results["ingest_vs_fetch"] = round(results["fetch_and_ingest"]["rows_per_s"] / fetch, 3)
    print(f"10x more key windows: {results['small_windows_vs_fetch']:.2f}x the fetch rate; "
          f"with ingest: {results['ingest_vs_fetch']:.2f}x")
    out = Path(__file__).resolve().parent / "results" / "netsuite.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
