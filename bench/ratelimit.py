"""Shared rate budget against a throttling server: N client processes (the real client: Redis budget, breaker,
call log on PostgreSQL) share one Shopify budget for a fixed time. Reports achieved rate / allowed rate (burst
included) and throttled answers, for N = 1 and 4, for the REST leaky bucket (leak 2/s as Shopify Standard, and
50/s to stress the limiter) and the GraphQL cost bucket; plus the limiter's overhead per call beside a bare Redis
round trip.

ShipBob (sliding window, 150 requests per 60 s per user + application): N client processes share one account
against the local sandbox's ShipBob, which enforces the real 60-second window and answers 429 above it. Each case
runs two windows (``--shipbob-seconds``, default 120) and reports requests accepted / the window's allowance
(150 per started window) and the 429s the sandbox answered.

    .venv/bin/python bench/ratelimit.py                  # 10 s per case, 6 cases, plus 2 x 120 s of ShipBob (~6 min)
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
            if args.channel == "shipbob":
                client.get("/fulfillment-center")
            elif args.channel == "rest":
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


def run_shipbob(n: int, duration: float, retailer) -> dict:
    """N processes on one ShipBob account (a personal access token) against the sandbox's sliding window."""
    import math

    from integrations.models import Connection

    sandbox = SHIPBOB_SANDBOX
    pat = sandbox.state.issue_token("shipbob", f"bench-{uuid.uuid4().hex[:6]}", "pat", "access", None, pat=True,
                                    scopes=["locations_read"])
    conn = Connection.objects.create(retailer=retailer, provider="shipbob", status=Connection.Status.ACTIVE,
                                     external_account_id=f"bench-{uuid.uuid4().hex[:8]}", access_token=pat)
    before = sandbox.state.counters.snapshot()["statuses"].get("shipbob", {})
    key = f"{sandbox.state.tokens[pat].account}:pat"
    start = time.time() + 4.0
    end = start + duration
    procs = [subprocess.Popen([sys.executable, __file__, "--child", "--connection", str(conn.pk), "--channel",
                               "shipbob", "--start", repr(start), "--end", repr(end)],
                              cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(n)]
    outputs = [p.communicate(timeout=duration + 180) for p in procs]
    counts = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    errors = [line for _, err in outputs for line in err.splitlines() if line.startswith("error:")]
    after = sandbox.state.counters.snapshot()["statuses"].get("shipbob", {})
    throttled = after.get(429, 0) - before.get(429, 0)
    window = sandbox.state.faults["shipbob"].shipbob_window_seconds
    # Requests the sandbox let through inside [start, end) (a call that waited for the window past the end of the
    # run is not counted), against what a sliding window lets through in that span from empty: one full window
    # at each of start, start + W, ...
    accepted = sum(1 for k, t in list(sandbox.state.shipbob_accepted) if k == key and start <= t < end)
    allowed = 150 * math.ceil(duration / window)
    result = {"case": "shipbob_sliding_150_per_60s", "clients": n, "seconds": duration, "unit": "requests",
              "window_seconds": window, "allowed": allowed, "achieved": accepted,
              "fraction_of_allowed": round(accepted / allowed, 4), "throttled_answers": throttled,
              "client_calls_ok": sum(c["ok"] for c in counts), "client_errors": sum(c["failed"] for c in counts),
              "error_samples": errors[:3]}
    print(f"{'shipbob_sliding':16} N={n}  {accepted:8.0f}/{allowed:<7.0f} requests = "
          f"{result['fraction_of_allowed']:.3f} of allowed, throttled answers {throttled}, "
          f"client errors {result['client_errors']}")
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
    parser.add_argument("--shipbob-seconds", type=float, default=120.0)
    parser.add_argument("--only", choices=["all", "shipbob"], default="all")
    args = parser.parse_args()
    if args.child:
        return child(args)
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("bench/ratelimit.py needs Redis: set REDIS_URL (scripts/bench.sh defaults it)")

    global SERVER_BUCKETS, CHILD_ENV, SHIPBOB_SANDBOX
    from _throttle_server import Buckets, serve

    sys.path.insert(0, str(ROOT))  # the sandbox package, not bench/sandbox.py (the sandbox benchmark)
    from sandbox.server import SandboxServer

    SERVER_BUCKETS = Buckets()
    server = serve(SERVER_BUCKETS)
    port = server.server_address[1]
    SHIPBOB_SANDBOX = SandboxServer().start()
    CHILD_ENV = {**os.environ, "SHOPIFY_BASE_URL_TEMPLATE": f"http://127.0.0.1:{port}/shopify/{{shop}}",
                 "SHIPBOB_API_URL": f"{SHIPBOB_SANDBOX.url}/shipbob",
                 # A full window waits up to 61 s for its oldest request to leave; let the client wait that long.
                 "HTTP_MAX_BUDGET_WAIT_SECONDS": "90", "LOG_LEVEL": "WARNING"}
    os.environ.update(CHILD_ENV)
    setup()
    from inventory.models import Retailer

    retailer, _ = Retailer.objects.get_or_create(slug="bench-ratelimit", defaults={"name": "Bench ratelimit"})
    results = []
    clients = [int(x) for x in args.clients.split(",")]
    if args.only == "all":
        for name, channel, leak in CASES:
            for n in clients:
                results.append(run_case(name, channel, leak, n, args.duration, port, retailer))
    for n in clients:
        results.append(run_shipbob(n, args.shipbob_seconds, retailer))
    over = overhead(5000)
    server.shutdown()
    SHIPBOB_SANDBOX.stop()
    worst = min(r["fraction_of_allowed"] for r in results)
    throttled = sum(r["throttled_answers"] for r in results)
    print(f"worst fraction of allowed rate: {worst:.3f}; throttled answers in all cases: {throttled} "
          f"(target: >= 0.9 and 0)")
    name = "ratelimit" if args.only == "all" else "ratelimit_shipbob"
    write_result(name, {"cases": results, "overhead": over, "worst_fraction": worst,
                               "total_throttled": throttled, "target_met": worst >= 0.9 and throttled == 0,
                               "duration_seconds": args.duration, "host": os.uname().nodename,
                               "cpus": os.cpu_count()})


SERVER_BUCKETS = None
SHIPBOB_SANDBOX = None
CHILD_ENV: dict = {}

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
