"""CPU cost of webhook processing per 1,000 events, independent of how busy the machine is.

Stores events as bench/webhooks.py sends them (Square inventory.count.updated and Shopify orders/create with two
lines, half each; 10% of the Shopify orders delivered again as orders/updated), marks them ``queued`` as the
dispatcher does, then runs ``process_batch`` over them in batches of WEBHOOK_PROCESS_BATCH, in this process. It
reports this process's CPU seconds (user + system, from rusage) and the PostgreSQL backend's CPU seconds (from
/proc/<backend pid>/stat, same machine) per 1,000 events: CPU time does not stretch when other processes take the
cores, wall time does. ``--profile`` prints the cProfile top functions instead of recording.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/webhooks_cpu.py [--events 5000]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfops.settings")
os.environ.setdefault("VAR_DIR", "/tmp/shelfops-bench-webhooks")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import webhooks as bench_webhooks  # noqa: E402  (EventMaker, accounts: the same events as the load bench)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process on this machine (the PostgreSQL backend serving our connection)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # the database runs elsewhere: only our own CPU is reported
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def store_events(scenario: str, count: int, order_base: int) -> list[int]:
    """``count`` queued events, as the inbox stores them (bulk, outside the measurement)."""
    from integrations.models import Connection, WebhookEvent

    connections = dict(Connection.objects.filter(
        external_account_id__in=[bench_webhooks.SQUARE_MERCHANT, bench_webhooks.SHOPIFY_SHOP]
    ).values_list("provider", "pk"))
    maker = bench_webhooks.EventMaker(scenario, order_base)
    accounts = {"square": bench_webhooks.SQUARE_MERCHANT, "shopify": bench_webhooks.SHOPIFY_SHOP}
    rows = []
    for i in range(count):
        provider, event_id, body, headers = maker.make(i)
        topic = "inventory.count.updated" if provider == "square" else "orders/create"
        if provider == "shopify" and i % 20 == 1 and i > 1:  # a second version of an earlier order, as updated
            prev = maker.make(i - 2)
            body = prev[2].replace(b'"updated_at":"2026-09-01T09:00:00-04:00"',
                                   b'"updated_at":"2026-09-01T09:05:00-04:00"')
            topic, event_id = "orders/updated", f"{event_id}-u"
        rows.append(WebhookEvent(provider=provider, connection_id=connections[provider],
                                 external_account_id=accounts[provider],
                                 event_id=event_id, topic=topic, headers={}, body=body,
                                 status=WebhookEvent.Status.QUEUED))
    WebhookEvent.objects.bulk_create(rows, batch_size=1000)
    return list(WebhookEvent.objects.filter(event_id__startswith=f"{scenario}-").order_by("pk")
                .values_list("pk", flat=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions; record nothing")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    bench_webhooks.ensure_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from integrations.models import WebhookEvent
    from integrations.webhooks.batch import process_batch

    call_command("migrate", verbosity=0, interactive=False)
    bench_webhooks.prepare_accounts()
    WebhookEvent.objects.filter(event_id__startswith="cpu-").delete()
    # Warm-up (imports, caches, the first ingest's lookups), not measured.
    for pks in _chunks(store_events("cpuwarm", 400, 8 * 10**9), settings.WEBHOOK_PROCESS_BATCH):
        process_batch(pks)
    pks = store_events("cpu", args.events, 7 * 10**9)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
    ours, theirs, wall = own_cpu_seconds(), backend_cpu_seconds(backend), time.perf_counter()
    if profiler:
        profiler.enable()
    for chunk in _chunks(pks, settings.WEBHOOK_PROCESS_BATCH):
        process_batch(chunk)
    if profiler:
        profiler.disable()
    ours, wall = own_cpu_seconds() - ours, time.perf_counter() - wall
    theirs = None if theirs is None else backend_cpu_seconds(backend) - theirs
    statuses = dict(WebhookEvent.objects.filter(pk__in=pks).values_list("status").annotate(n=Count("id")).order_by())
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    per_k = 1000 / len(pks)
    figures = {
        "events": len(pks),
        "batch": settings.WEBHOOK_PROCESS_BATCH,
        "statuses": statuses,
        "worker_cpu_s_per_1000": round(ours * per_k, 3),
        "postgres_cpu_s_per_1000": None if theirs is None else round(theirs * per_k, 3),
        "wall_s_per_1000": round(wall * per_k, 3),
        "events_per_worker_cpu_s": round(len(pks) / ours, 1) if ours else None,
    }
    print(json.dumps(figures))
    WebhookEvent.objects.filter(event_id__startswith="cpu").delete()
    if args.profile or args.no_record:
        return
    out = ROOT / "bench" / "results" / "webhooks_cpu.json"
    out.write_text(json.dumps({"params": vars(args), "cpus": os.cpu_count(), "results": figures}, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


if __name__ == "__main__":
    main()
