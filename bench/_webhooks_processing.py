"""The processing half of bench/webhooks.py: how fast the worker turns stored events into final ones while the load
runs, the lag from receipt to processed, and a background load of two sync runs for the "with syncs" variant.

Figures come from the rows themselves: ``received_at`` is set by the web process when it stores the event,
``processed_at`` by the worker when the batch holding it finishes (it commits right after), both from the same
clock on this one machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYNC_STREAM = "orders"  # the heaviest stream of both POS providers: full loads of sale lines


def processing_figures(scenario: str, load_started, load_ended) -> dict:
    """Processed events per second during the load window and overall (first receipt to last processed), and the
    receipt -> processed lag percentiles, over this scenario's final events."""
    from django.db import connection

    from integrations.models import WebhookEvent

    table = WebhookEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*),
                       count(*) FILTER (WHERE processed_at <= %s),
                       EXTRACT(EPOCH FROM max(processed_at) - min(received_at)),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM processed_at - received_at)),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM processed_at - received_at))
                  FROM {table}
                 WHERE event_id LIKE %s AND status IN ('processed', 'ignored', 'failed')
                   AND processed_at IS NOT NULL""",
            [load_ended, f"{scenario}-%"],
        )
        final, during, span, lag_p50, lag_p99 = cursor.fetchone()
    window = (load_ended - load_started).total_seconds()
    return {
        "processed_final": final,
        "processed_during_load": during,
        "processed_per_s_during_load": round(during / window, 1) if window > 0 else None,
        "processed_per_s_overall": round(final / float(span), 1) if span else None,
        "lag_p50_s": round(lag_p50, 3) if lag_p50 is not None else None,
        "lag_p99_s": round(lag_p99, 3) if lag_p99 is not None else None,
    }


def backlog_figures(scenario: str) -> dict:
    """The worker's processing rate on a backlog (the "backlog" scenario: the load runs with no worker, then one
    starts): events over the time from its first to its last processed event, so the worker's start-up is left out
    and the rate is what it sustains while it never waits for work."""
    from django.db import connection

    from integrations.models import WebhookEvent

    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*), EXTRACT(EPOCH FROM max(processed_at) - min(processed_at))
                  FROM {WebhookEvent._meta.db_table}
                 WHERE event_id LIKE %s AND status IN ('processed', 'ignored', 'failed')
                   AND processed_at IS NOT NULL""",
            [f"{scenario}-%"],
        )
        events, busy = cursor.fetchone()
    return {"backlog_events": events, "backlog_busy_s": round(float(busy or 0), 2),
            "processed_per_s_backlog": round(events / float(busy), 1) if busy else None}


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by a process and its descendants: for each live process its own
    time plus that of its children it has already reaped (a prefork pool's replaced children). Linux /proc only."""
    proc = Path("/proc")
    if not proc.joinpath("stat").exists():
        return None
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    tree, grew = {pid}, True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return sum(used.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


class SyncLoad:
    """Two sync runs going for as long as it is started: a full Square and a full Shopify ``orders`` sync from the
    provider sandbox (in this process, a thread), each in its own ``manage.py sync --low-priority`` process, as a
    syncs-queue worker would run it (with its lowered CPU priority), started again whenever it finishes. Their
    ingest competes with the webhook worker for the database and the CPU, which is what the variant measures."""

    def __init__(self, port: int, orders: int):
        from django.conf import settings

        from sandbox.data import Sizes
        from sandbox.server import SandboxServer
        from sandbox.state import SandboxConfig

        config = SandboxConfig.from_django_settings(sizes=Sizes(products=2000, locations=5, orders=orders),
                                                    duplicate_webhook_probability=0.0)
        # The sandbox stands in for Square's and Shopify's servers, whose CPU is not this machine's: niced, it takes
        # only what the portal leaves, instead of a third of the two cores at the portal's priority.
        self.server = SandboxServer(config, port=port, nice=19).start()
        self.settings = settings
        self.connections = [self._connection(p) for p in ("square", "shopify")]
        self.env = dict(os.environ, DJANGO_SETTINGS_MODULE="shelfops.settings", SANDBOX_URL=self.server.url,
                        SQUARE_BASE_URL=f"{self.server.url}/square",
                        SHOPIFY_BASE_URL_TEMPLATE=f"{self.server.url}/shopify/{{shop}}",
                        SHOPIFY_BULK_POLL_SECONDS="0.2", LOG_LEVEL="WARNING")
        self.runs_started = 0
        self.runs_failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _connection(self, provider: str):
        from integrations.models import Connection
        from inventory.models import Retailer
        from sandbox import changes

        retailer, _ = Retailer.objects.get_or_create(slug="bench-webhooks-syncs",
                                                     defaults={"name": "Bench webhooks (syncs)"})
        account = changes.default_account(self.server.state, provider)
        client_id = (self.settings.SQUARE_CLIENT_ID if provider == "square" else self.settings.SHOPIFY_CLIENT_ID)
        scopes = {"square": ["MERCHANT_PROFILE_READ", "ITEMS_READ", "INVENTORY_READ", "ORDERS_READ"],
                  "shopify": ["read_products", "read_inventory", "read_locations", "read_orders"]}[provider]
        token = self.server.state.issue_token(provider, account, client_id, "access", None, scopes=scopes)
        connection, _ = Connection.objects.update_or_create(
            provider=provider, external_account_id=account,
            defaults={"retailer": retailer, "status": Connection.Status.ACTIVE, "access_token": token},
        )
        return connection

    def _spawn(self, connection) -> subprocess.Popen:
        self.runs_started += 1
        return subprocess.Popen(
            # Niced from exec, as a syncs worker is from its start (integrations/sync/priority.py): that worker
            # imports Django once and runs every sync at the lowered priority, where ``manage.py sync
            # --low-priority`` would import it at the web's priority for each of the ~20 runs a scenario starts.
            ["nice", "-n", str(self.settings.SYNC_WORKER_NICE), sys.executable, "manage.py", "sync",
             str(connection.pk), "--stream", SYNC_STREAM, "--full", "--no-progress"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _keep_two_going(self) -> None:
        procs = [self._spawn(c) for c in self.connections]
        while not self._stop.wait(0.2):
            for i, proc in enumerate(procs):
                if proc.poll() is not None:
                    self.runs_failed += proc.returncode != 0
                    procs[i] = self._spawn(self.connections[i])
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def start(self) -> SyncLoad:
        self._thread = threading.Thread(target=self._keep_two_going, daemon=True)
        self._thread.start()
        time.sleep(2)  # both runs past start-up (imports, first page) before the load begins
        return self

    def stop(self) -> dict:
        self._stop.set()
        if self._thread:
            self._thread.join(60)
        self.server.stop()
        from integrations.models import SyncRun

        # Runs cut short by the stop stay "running" until recovery; mark them so the next bench can start new ones.
        SyncRun.objects.filter(connection__in=self.connections, status__in=["queued", "running"]).update(
            status="failed", error="stopped by bench/webhooks.py")
        return {"sync_runs_started": self.runs_started, "sync_runs_failed": self.runs_failed}


def _ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def summarize(results: dict) -> dict:
    inbox, inline, ceiling, syncs = (results[k] for k in ("inbox", "inline", "ceiling", "syncs"))
    processed = [results[k] for k in ("inbox", "backlog", "paced", "syncs") if k in results]
    return {
        "inbox_vs_inline_accepted_ratio": _ratio(inbox["accepted_per_s"], inline["accepted_per_s"]),
        "inbox_vs_ceiling_accepted_ratio": _ratio(inbox["accepted_per_s"], ceiling["accepted_per_s"]),
        "inbox_processed_per_s_during_load": inbox["processed_per_s_during_load"],
        "inbox_vs_inline_processed_ratio": _ratio(inbox["processed_per_s_overall"], inline["accepted_per_s"]),
        # The issue's isolation check: with two syncs going, within 1.5x of the quiet figures.
        "syncs_vs_quiet_ack_p99_ratio": _ratio(syncs["p99_ms"], inbox["p99_ms"]),
        "syncs_vs_quiet_lag_p99_ratio": _ratio(syncs["lag_p99_s"], inbox["lag_p99_s"]),
        # CPU seconds of the worker's processes per 1,000 events it finished (not its database backend's).
        "inbox_worker_cpu_s_per_1000": inbox.get("worker_cpu_s_per_1000"),
        "paced_worker_cpu_s_per_1000": results.get("paced", {}).get("worker_cpu_s_per_1000"),
        "paced_requests_per_s": results.get("paced", {}).get("accepted_per_s"),
        "paced_lag_p99_s": results.get("paced", {}).get("lag_p99_s"),
        # The worker's sustained rate on a backlog (the issue's "processing" figure: at least 1,000 events/s).
        "backlog_processed_per_s": results.get("backlog", {}).get("processed_per_s_backlog"),
        "lost": sum(r["lost"] for r in processed),
        "orders_doubled": sum(r["orders_doubled"] for r in processed),
        "transactions_match": all(r["transactions"] == r["transactions_expected"] for r in processed),
    }
