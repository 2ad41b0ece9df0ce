"""How fast the sandbox produces data: order lines straight from the generator (``sandbox.data``) versus the same
lines paged through the real HTTP protocols (Square orders search, Shopify GraphQL orders, NetSuite SuiteQL), in
one run, one process (the server in a thread). It bounds what an ingest benchmark reading from the sandbox can
measure, and shows that memory stays flat while streaming.

    .venv/bin/python bench/sandbox.py                 # default: 60k orders (~150k lines); about a minute
    .venv/bin/python bench/sandbox.py --scale full    # the issue's size: 100k variants, 1M order lines
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfops.settings")

import requests  # noqa: E402

from sandbox.data import Merchant, Sizes  # noqa: E402
from sandbox.server import SandboxServer  # noqa: E402
from sandbox.state import SandboxConfig  # noqa: E402

SCALES = {"default": Sizes(products=5_000, locations=5, orders=60_000),
          "full": Sizes(products=50_000, locations=5, orders=400_000)}  # 100k variants, ~1M lines
HTTP_ORDERS = {"default": 20_000, "full": 60_000}  # orders fetched per protocol (HTTP is the slow part)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):
    start = time.perf_counter()
    count = fn()
    return count, time.perf_counter() - start


def direct_lines(m: Merchant) -> int:
    return sum(1 for _ in m.iter_order_lines())


def connect_square(url, cfg) -> str:
    from urllib.parse import parse_qs, urlsplit

    params = {"client_id": cfg.square_client_id, "scope": "MERCHANT_PROFILE_READ ORDERS_READ", "state": "b",
              "redirect_uri": "http://127.0.0.1:8000/cb/", "decision": "allow"}
    loc = requests.post(f"{url}/square/oauth2/authorize", data=params, allow_redirects=False).headers["Location"]
    code = parse_qs(urlsplit(loc).query)["code"][0]
    return requests.post(f"{url}/square/oauth2/token", json={
        "client_id": cfg.square_client_id, "client_secret": cfg.square_client_secret, "code": code,
        "grant_type": "authorization_code", "redirect_uri": "http://127.0.0.1:8000/cb/"}).json()["access_token"]


def square_lines(url, token, max_orders) -> int:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    locs = [x["id"] for x in session.get(f"{url}/square/v2/locations").json()["locations"]]
    lines = orders = 0
    body = {"location_ids": locs, "limit": 1000, "query": {"sort": {"sort_field": "CREATED_AT", "sort_order": "ASC"}}}
    while orders < max_orders:
        page = session.post(f"{url}/square/v2/orders/search", json=body).json()
        orders += len(page.get("orders", []))
        lines += sum(len(o["line_items"]) for o in page.get("orders", []))
        if not page.get("cursor"):
            break
        body["cursor"] = page["cursor"]
    return lines


def netsuite_lines(app, url, max_orders) -> int:
    from sandbox.netsuite import oauth

    token = oauth._issue(app.state, "1234567", ["rest_webservices"], True, with_refresh=False)["access_token"]
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Prefer": "transient"})
    q = (f"SELECT tl.transaction, tl.id, tl.item, tl.quantity, tl.rate FROM transactionline tl WHERE "
         f"tl.mainline = 'F' AND tl.transaction <= {max_orders} ORDER BY tl.transaction, tl.id")
    lines, offset = 0, 0
    while True:
        page = session.post(f"{url}/netsuite/1234567/suitetalk/services/rest/query/v1/suiteql",
                            params={"limit": 1000, "offset": offset}, json={"q": q}).json()
        lines += page["count"]
        offset += page["count"]
        if not page["hasMore"] or offset >= 100_000:
            return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=sorted(SCALES), default=os.environ.get("BENCH_SCALE", "default"))
    args = parser.parse_args()
    sizes = SCALES[args.scale]
    results: dict = {"scale": args.scale, "sizes": sizes.__dict__}

    m = Merchant("bench", sizes)
    lines, seconds = timed(lambda: direct_lines(m))
    results["direct"] = {"lines": lines, "seconds": round(seconds, 2), "lines_per_s": round(lines / seconds)}
    print(f"generator: {lines} lines in {seconds:.1f}s = {lines / seconds:,.0f} lines/s (max RSS {rss_mb():.0f} MB)")

    config = SandboxConfig(sizes=sizes, seed="bench")
    server = SandboxServer(config).start()
    try:
        token = connect_square(server.url, config)
        cap = HTTP_ORDERS[args.scale]
        for name, fn in (("square_orders_search", lambda: square_lines(server.url, token, cap)),
                         ("netsuite_suiteql", lambda: netsuite_lines(server.app, server.url, cap))):
            count, seconds = timed(fn)
            rate = count / seconds
            results[name] = {"lines": count, "seconds": round(seconds, 2), "lines_per_s": round(rate),
                             "vs_direct": round(rate / results["direct"]["lines_per_s"], 3)}
            print(f"{name}: {count} lines in {seconds:.1f}s = {rate:,.0f} lines/s "
                  f"({rate / results['direct']['lines_per_s']:.2f}x the generator)")
    finally:
        server.stop()
    results["max_rss_mb"] = round(rss_mb())
    print(f"max RSS {results['max_rss_mb']} MB")
    out = Path(__file__).resolve().parent / "results" / "sandbox.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
