"""Shared rate budget against a throttling server: N client processes (the real client: Redis budget, breaker,
call log on PostgreSQL) share one Shopify budget for a fixed time. Reports achieved rate / allowed rate (burst
included) and throttled answers, for N = 1 and 4, for the REST leaky bucket (leak 2/s as Shopify Standard, and
50/s to stress the limiter) and the GraphQL cost bucket; plus the limiter's overhead per call beside a bare Redis
round trip.

    .venv/bin/python bench/ratelimit.py                  # 10 s per case, 6 cases (~1.5 min)
    .venv/bin/python bench/ratelimit.py --duration 60    # longer windows (burst weighs less in the ratio)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from _setup import ROOT, setup, write_result

CASES = [  # name, channel, leak (REST) ; the GraphQL server is Standard-legacy 1000 points restoring 50/s
    ("rest_leak_2", "rest", 2.0),
    ("rest_leak_50", "rest", 50.0),
    ("graphql_1000_50", "graphql", None),
]
QUERY = "query Bench { shop { name } }"


def child(args) -> None:
    """One client process: calls until the window ends, then prints its counts."""
    setup()
    from integrations.http import client_for
    from integrations.http.errors import ProviderError
    from integrations.models import Connection

    client = client_for(Connection.objects.get(pk=args.connection))
    ok = failed = 0
    while time.time() < args.start:
        time.sleep(0.001)
    while time.time() < args.end:
        try:
            if args.channel == "rest":
                client.get("/shop.json")
            else:
                client.graphql(QUERY)
            ok += 1
        except ProviderError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
    print(json.dumps({"ok": ok, "failed": failed}))


def run_case(name, channel, leak, n, duration, port, retailer) -> dict:
    from integrations.models import Connection

    buckets = SERVER_BUCKETS
    shop = f"bench-{uuid.uuid4().hex[:8]}.myshopify.com"
    overrides = {"rest_rate_policy": {"rate": leak}} if leak else {}
    conn = Connection.objects.create(retailer=retailer, provider="shopify", external_account_id=shop,
                                     status=Connection.Status.ACTIVE, access_token="shpat_bench_token",
                                     settings=overrides)
    if leak:
        buckets.leak = leak
    start = time.time() + 4.0  # time for the children to start Django
    end = start + duration
    buckets.reset(window=(start, end))
    procs = [subprocess.Popen([sys.executable, __file__, "--child", "--connection", str(conn.pk), "--channel",
                               channel, "--start", repr(start), "--end", repr(end)],
                              cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(n)]
    outputs = [p.communicate(timeout=duration + 120) for p in procs]
    counts = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    errors = [line for _, err in outputs for line in err.splitlines() if line.startswith("error:")]
    if channel == "rest":
        allowed = buckets.size + leak * duration
        achieved = buckets.accepted
        unit = "requests"
    else:
        allowed = buckets.maximum + buckets.restore * duration
        achieved = buckets.points_spent
        unit = "points"
    result = {"case": name, "clients": n, "seconds": duration, "unit": unit, "allowed": allowed,
              "achieved": achieved, "fraction_of_allowed": round(achieved / allowed, 4),
              "throttled_answers": buckets.throttled, "client_calls_ok": sum(c["ok"] for c in counts),
              "client_errors": sum(c["failed"] for c in counts), "error_samples": errors[:3]}
    print(f"{name:16} N={n}  {achieved:8.0f}/{allowed:<7.0f} {unit:8} = {result['fraction_of_allowed']:.3f} "
          f"of allowed, throttled answers {buckets.throttled}, client errors {result['client_errors']}")
    return result


def overhead(iterations: int) -> dict:
    """Per-call cost of the limiter (reserve before + correct after, two Lua calls) vs a bare Redis PING."""
    from django.conf import settings

    from integrations.http.store.redis_store import RedisStore
    from integrations.providers.base import RatePolicy
    from integrations.providers.shopify.limiters import ShopifyRestLimiter

    store = RedisStore(settings.REDIS_URL)
    key = f"bench:overhead:{uuid.uuid4().hex}"
    limiter = ShopifyRestLimiter(store, key, RatePolicy(kind="shopify_rest", rate=1e9, burst=1e12),
                                 clock=time.time, sleep=time.sleep, max_wait=60)

    class Answer:
        headers = {"X-Shopify-Shop-Api-Call-Limit": "1/1000000000000"}

    for _ in range(200):  # warm up: scripts loaded, connection open
        store.redis.ping()
        limiter.observe(limiter.acquire(), Answer())
    t0 = time.perf_counter()
    for _ in range(iterations):
        store.redis.ping()
    ping_us = (time.perf_counter() - t0) / iterations * 1e6
    t0 = time.perf_counter()
    for _ in range(iterations):
        limiter.observe(limiter.acquire(), Answer())
    limiter_us = (time.perf_counter() - t0) / iterations * 1e6
    store.reset(key)
    print(f"limiter overhead: {limiter_us:.0f} us per call (reserve + header correction) vs bare Redis PING "
          f"{ping_us:.0f} us ({limiter_us / ping_us:.1f}x, i.e. two round trips plus Lua)")
    return {"limiter_us_per_call": round(limiter_us, 1), "redis_ping_us": round(ping_us, 1),
            "ratio": round(limiter_us / ping_us, 2), "iterations": iterations}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--connection", type=int)
    parser.add_argument("--channel")
    parser.add_argument("--start", type=float)
    parser.add_argument("--end", type=float)
    parser.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_RATELIMIT_SECONDS", 10)))
    parser.add_argument("--clients", default="1,4")
    args = parser.parse_args()
    if args.child:
        return child(args)
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("bench/ratelimit.py needs Redis: set REDIS_URL (scripts/bench.sh defaults it)")

    global SERVER_BUCKETS, CHILD_ENV
    from _throttle_server import Buckets, serve

    SERVER_BUCKETS = Buckets()
    server = serve(SERVER_BUCKETS)
    port = server.server_address[1]
    CHILD_ENV = {**os.environ, "SHOPIFY_BASE_URL_TEMPLATE": f"http://127.0.0.1:{port}/shopify/{{shop}}"}
    os.environ.update(CHILD_ENV)
    setup()
    from inventory.models import Retailer

    retailer, _ = Retailer.objects.get_or_create(slug="bench-ratelimit", defaults={"name": "Bench ratelimit"})
    results = []
    for name, channel, leak in CASES:
        for n in [int(x) for x in args.clients.split(",")]:
            results.append(run_case(name, channel, leak, n, args.duration, port, retailer))
    over = overhead(5000)
    server.shutdown()
    worst = min(r["fraction_of_allowed"] for r in results)
    throttled = sum(r["throttled_answers"] for r in results)
    print(f"worst fraction of allowed rate: {worst:.3f}; throttled answers in all cases: {throttled} "
          f"(target: >= 0.9 and 0)")
    write_result("ratelimit", {"cases": results, "overhead": over, "worst_fraction": worst,
                               "total_throttled": throttled, "target_met": worst >= 0.9 and throttled == 0,
                               "duration_seconds": args.duration, "host": os.uname().nodename,
                               "cpus": os.cpu_count()})


SERVER_BUCKETS = None
CHILD_ENV: dict = {}

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
