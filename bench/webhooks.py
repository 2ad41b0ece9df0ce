"""Webhook inbox under load: the portal under gunicorn on PostgreSQL and Redis, a load generator on loopback posting
signed Square and Shopify events (10% duplicates) for a fixed time, then a real Celery worker drains the queue.

Three handlers, same gunicorn, same run, same load:
  inbox    the real POST /webhooks/<provider>/ (verify, store, enqueue; the worker processes, running meanwhile)
  inline   verify, store and process before answering (the seed note's way; no provider fetch here, so the real
           inline cost of Square orders is higher still)
  ceiling  a bare view that only checks the HMAC and inserts the row
Square events are inventory.count.updated (levels from the payload), Shopify events orders/create with two lines
(transactions), so every event can be checked after the drain: events stored = unique events acknowledged,
transactions = 2 per unique order, none lost, none doubled.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/webhooks.py [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfops.settings")
os.environ.setdefault("VAR_DIR", "/tmp/shelfops-bench-webhooks")
os.environ.setdefault("LOG_LEVEL", "WARNING")
SQUARE_MERCHANT, SHOPIFY_SHOP = "BENCH-WH-SQUARE", "bench-webhooks.myshopify.com"
DUPLICATE_SHARE = 0.10


def ensure_database() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        raise SystemExit("bench/webhooks.py needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_accounts():
    from integrations.models import Connection, WebhookEvent
    from inventory.models import InventoryLevel, ProductMapping, Retailer, StoreMapping, Transaction

    retailer, _ = Retailer.objects.get_or_create(slug="bench-webhooks", defaults={"name": "Bench Webhooks"})
    for provider, account in (("square", SQUARE_MERCHANT), ("shopify", SHOPIFY_SHOP)):
        Connection.objects.update_or_create(
            provider=provider, external_account_id=account,
            defaults={"retailer": retailer, "status": Connection.Status.ACTIVE, "access_token": "bench-token"},
        )
    accounts = [SQUARE_MERCHANT, SHOPIFY_SHOP]
    WebhookEvent.objects.filter(external_account_id__in=accounts).delete()
    WebhookEvent.objects.filter(event_id__regex=r"^(ceiling|inbox|inline|warmup)-(sq|sh)-").delete()
    Transaction.objects.filter(retailer=retailer).delete()
    InventoryLevel.objects.filter(retailer=retailer).delete()
    StoreMapping.objects.filter(retailer=retailer).delete()
    ProductMapping.objects.filter(retailer=retailer).delete()
    return retailer


class EventMaker:
    """Signed requests, as the providers send them. Keys come from the same settings the server reads."""

    def __init__(self, scenario: str, order_base: int):
        from django.conf import settings

        from integrations.providers.square.webhooks import notification_url

        self.scenario, self.order_base = scenario, order_base
        self.square_key = settings.SQUARE_WEBHOOK_SIGNATURE_KEY.encode()
        self.square_url = notification_url().encode()
        self.shopify_secret = settings.SHOPIFY_CLIENT_SECRET.encode()

    def make(self, i: int) -> tuple[str, str, bytes, dict]:
        """(provider, event id, body, headers) of the i-th unique event."""
        if i % 2 == 0:
            event_id = f"{self.scenario}-sq-{i}"
            body = json.dumps({
                "merchant_id": SQUARE_MERCHANT, "type": "inventory.count.updated", "event_id": event_id,
                "created_at": "2026-09-01T10:00:00Z",
                "data": {"type": "inventory_counts", "id": f"c{i}", "object": {"inventory_counts": [{
                    "catalog_object_id": f"VAR{i % 500}", "catalog_object_type": "ITEM_VARIATION",
                    "state": "IN_STOCK", "location_id": f"LOC{i % 5}", "quantity": str(i % 40),
                    "calculated_at": f"2026-09-01T10:{(i // 60) % 60:02d}:{i % 60:02d}Z", "is_estimated": False,
                }]}},
            }, separators=(",", ":")).encode()
            sig = base64.b64encode(hmac.new(self.square_key, self.square_url + body, hashlib.sha256).digest())
            return "square", event_id, body, {"x-square-hmacsha256-signature": sig.decode()}
        event_id = f"{self.scenario}-sh-{i}"
        order_id = self.order_base + i
        body = json.dumps({
            "id": order_id, "name": f"#{order_id}", "created_at": "2026-09-01T09:00:00-04:00",
            "processed_at": "2026-09-01T09:00:00-04:00", "updated_at": "2026-09-01T09:00:00-04:00",
            "cancelled_at": None, "currency": "USD", "financial_status": "paid", "location_id": 7000 + i % 5,
            "line_items": [
                {"id": order_id * 10 + n, "variant_id": 500 + (i + n) % 300, "sku": f"SKU-{(i + n) % 300}",
                 "quantity": 1 + n, "current_quantity": 1 + n, "price": "4.50"} for n in range(2)
            ],
        }, separators=(",", ":")).encode()
        sig = base64.b64encode(hmac.new(self.shopify_secret, body, hashlib.sha256).digest()).decode()
        headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": sig,
                   "X-Shopify-Shop-Domain": SHOPIFY_SHOP, "X-Shopify-API-Version": "2026-07",
                   "X-Shopify-Event-Id": event_id, "X-Shopify-Webhook-Id": f"w-{event_id}"}
        return "shopify", event_id, body, headers


def raw_request(path: str, body: bytes, headers: dict) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{head}\r\n").encode() + body


async def load(port: int, path_for, maker: EventMaker, duration: float, connections: int, seed: int):
    rng = random.Random(seed)
    acked: dict[str, str] = {}  # event id -> provider, for every unique event answered 2xx
    sent: list[tuple[str, str, bytes]] = []  # (provider, event id, request) already sent, for duplicates
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(10**9))
    deadline = time.monotonic() + duration
    duplicates = 0

    async def one_client():
        nonlocal duplicates
        while time.monotonic() < deadline:
            if sent and rng.random() < DUPLICATE_SHARE:
                provider, event_id, request = rng.choice(sent)
                is_duplicate = True
            else:
                provider, event_id, body, headers = maker.make(next(counter))
                request = raw_request(path_for(provider), body, headers)
                is_duplicate = False
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                await writer.drain()
                answer = await reader.read()
                writer.close()
            except OSError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            latencies.append(time.perf_counter() - started)
            status = int(answer[9:12]) if answer[:5] == b"HTTP/" else 0
            if 200 <= status < 300:
                if is_duplicate:
                    duplicates += 1
                else:
                    acked[event_id] = provider
                    sent.append((provider, event_id, request))
            else:
                errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1

    started = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(connections)))
    elapsed = time.monotonic() - started
    return {"acked": acked, "latencies": latencies, "errors": errors, "elapsed": elapsed, "duplicates": duplicates}


def percentile(values, q):
    if not values:
        return None
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] if len(values) > 1 else values[0]


def start(cmd, env, ready_text=None, log=None):
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return proc


def wait_http(port: int, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def verify(scenario: str, acked: dict[str, str], *, processed: bool) -> dict:
    from django.db.models import Count

    from integrations.models import WebhookEvent
    from inventory.models import Transaction

    rows = WebhookEvent.objects.filter(event_id__startswith=f"{scenario}-")
    stored = set(rows.values_list("event_id", flat=True))
    unique_orders = sum(1 for p in acked.values() if p == "shopify")
    result = {
        "unique_events_acked": len(acked),
        "events_stored": len(stored),
        "lost": len(set(acked) - stored),
        "stored_but_not_acked": len(stored - set(acked)),  # answered after the deadline or errored after commit
    }
    if processed:
        orders = Transaction.objects.filter(external_account_id=SHOPIFY_SHOP,
                                            external_order_id__in=[str(o) for o in _order_ids(scenario, acked)])
        per_order = orders.values("external_order_id").annotate(n=Count("id"))
        result.update(
            transactions=orders.count(),
            transactions_expected=2 * unique_orders,
            orders_doubled=sum(1 for o in per_order if o["n"] > 2),
            by_status=dict(rows.values_list("status").annotate(n=Count("id")).order_by()),
        )
    return result


_ORDER_BASES = {"inbox": 10**9, "inline": 2 * 10**9, "ceiling": 3 * 10**9, "warmup": 4 * 10**9}


def _order_ids(scenario, acked):
    return [_ORDER_BASES[scenario] + int(e.rsplit("-", 1)[1]) for e, p in acked.items() if p == "shopify"]


def drain(scenario: str, timeout: float) -> float:
    from integrations.models import WebhookEvent

    started = time.monotonic()
    pending = WebhookEvent.objects.filter(event_id__startswith=f"{scenario}-",
                                          status__in=[WebhookEvent.Status.QUEUED, WebhookEvent.Status.RECEIVED])
    last_sweep = started
    while pending.exists():
        if time.monotonic() - last_sweep > 30:  # what beat does: a lost message is re-sent, never waited on forever
            from integrations.webhooks.replay import sweep_stale

            sweep_stale(limit=100000)
            last_sweep = time.monotonic()
        if time.monotonic() - started > timeout:
            print(f"  drain timed out with {pending.count()} events pending")
            break
        time.sleep(0.5)
    return time.monotonic() - started


def start_worker(args):
    worker = start([sys.executable, "-m", "celery", "-A", "shelfops", "worker", "-P", "prefork", "-c",
                    str(args.worker_concurrency), "-l", "warning", "--without-gossip", "--without-mingle",
                    "--without-heartbeat", "-n", f"bench-webhooks-{os.getpid()}@%h"],
                   dict(os.environ, DJANGO_SETTINGS_MODULE="shelfops.settings"))
    time.sleep(3)
    return worker


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_WEBHOOKS_DURATION", 10)))
    parser.add_argument("--connections", type=int, default=16, help="concurrent client connections")
    # Commits wait on the WAL flush (durability before the 2xx), so more sync workers than cores keep the CPU busy.
    parser.add_argument("--web-workers", type=int, default=8, help="gunicorn sync workers")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery prefork processes")
    # Default: the worker starts when the load stops (in production it runs on other cores than the web tier;
    # on this 2-core box it would take CPU from gunicorn). --worker-during-load measures both on the same cores.
    parser.add_argument("--worker-during-load", action="store_true")
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from shelfops.celery import app

    app.control.purge()
    prepare_accounts()

    port = free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench._webhooks_settings", PYTHONPATH=str(ROOT))
    gunicorn = start([sys.executable, "-m", "gunicorn", "shelfops.wsgi:application", "-b", f"127.0.0.1:{port}",
                      "-w", str(args.web_workers), "--log-level", "warning"], env)
    worker = None
    results = {}
    try:
        wait_http(port)
        paths = {
            "ceiling": lambda p: f"/bench/ceiling/{p}/",
            "inbox": lambda p: f"/webhooks/{p}/",
            "inline": lambda p: f"/bench/inline/{p}/",
        }
        # Warm-up (not measured): every gunicorn worker imports the app on its first request.
        for path in paths.values():
            asyncio.run(load(port, path, EventMaker("warmup", 4 * 10**9), 1.5, args.connections, seed=99))
        from integrations.models import WebhookEvent

        WebhookEvent.objects.filter(event_id__startswith="warmup-").delete()
        app.control.purge()
        for n, scenario in enumerate(["ceiling", "inbox", "inline"]):
            if scenario == "inbox" and args.worker_during_load:
                worker = start_worker(args)
            maker = EventMaker(scenario, _ORDER_BASES[scenario])
            print(f"== {scenario}: {args.duration:.0f} s, {args.connections} connections")
            run = asyncio.run(load(port, paths[scenario], maker, args.duration, args.connections, seed=n))
            lat = run["latencies"]
            figures = {
                "requests": len(lat),
                "accepted_per_s": round((len(run["acked"]) + run["duplicates"]) / run["elapsed"], 1),
                "p50_ms": round(percentile(lat, 50) * 1000, 2),
                "p99_ms": round(percentile(lat, 99) * 1000, 2),
                "duplicates_sent_and_acked": run["duplicates"],
                "errors": run["errors"],
            }
            if scenario == "inbox":
                worker = worker or start_worker(args)
                figures["drain_s"] = round(drain("inbox", timeout=300), 1)
            figures.update(verify(scenario, run["acked"], processed=scenario != "ceiling"))
            results[scenario] = figures
            print("  " + json.dumps(figures))
            if scenario == "inbox":
                stop(worker)
                worker = None
    finally:
        stop(worker)
        stop(gunicorn)

    inbox, inline, ceiling = results["inbox"], results["inline"], results["ceiling"]
    summary = {
        "inbox_vs_inline_accepted_ratio": round(inbox["accepted_per_s"] / inline["accepted_per_s"], 2),
        "inbox_vs_ceiling_accepted_ratio": round(inbox["accepted_per_s"] / ceiling["accepted_per_s"], 2),
        "inbox_lost": inbox["lost"], "inbox_orders_doubled": inbox["orders_doubled"],
        "inbox_transactions_match": inbox["transactions"] == inbox["transactions_expected"],
    }
    print("== summary " + json.dumps(summary))
    out = ROOT / "bench" / "results" / "webhooks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"params": vars(args), "cpus": os.cpu_count(), "results": results,
                               "summary": summary}, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
