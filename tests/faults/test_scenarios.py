"""The fault suite (issue 16): real processes (gunicorn, a Celery worker, a private redis-server, the sandbox) on
the test database. Each scenario sends signed webhooks at a steady rate and runs a sync, injects a fault, lifts it,
then checks, with no manual step, that no acknowledged event is lost, none is processed twice, no transaction is
duplicated, the worker is alive and the sync finished. The figures are printed (``-s``) and appended to
``var/faults.jsonl``.

The test plays beat: every 2 s it sends beat's sweep and dispatcher tasks to the private broker (their intervals in
production are 60 s and 30 s, too slow for a test), ignoring failures while the broker is down."""

from __future__ import annotations

import os
import threading
import time

import pytest
from django.db.models import Count
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncSchedule, WebhookEvent
from inventory.models import Transaction
from tests.processes import CeleryWorker, wait_until
from tests.sync.e2e_helpers import sandbox_connection, worker_env
from tests.webhooks.helpers import SHOPIFY_SHOP

from .harness import CuttableTcpProxy, Portal, PrivateRedis, Sender, portal_env, print_figures

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 10
RECOVERY_TIMEOUT = 120


class Beat:
    """Sends beat's recovery tasks to the private broker every ``every`` seconds."""

    TASKS = ("integrations.webhooks.sweep_stale_events", "integrations.sync.dispatch_due_schedules")

    def __init__(self, broker_url: str, every: float = 2.0):
        self.broker_url, self.every = broker_url, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        from shelfops.celery import app

        while not self._stop.wait(self.every):
            try:
                with app.connection_for_write(self.broker_url) as conn:
                    conn.ensure_connection(max_retries=1)
                    for name in self.TASKS:
                        app.send_task(name, connection=conn, retry=False)
            except Exception:  # noqa: BLE001 - broker down: beat would fail the same way and try again later
                pass

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(10)


def build_rig(retailer, sandbox_server, *, database_url: str | None = None):
    """Private Redis, gunicorn, one worker for all three queues, the test as beat; a Shopify connection for the
    webhooks and a Square connection on the sandbox (slowed down) whose streams are due every few seconds."""
    sandbox_server.set_webhook_target("http://127.0.0.1:9")
    Connection.objects.create(retailer=retailer, provider="shopify", external_account_id=SHOPIFY_SHOP,
                              status=Connection.Status.ACTIVE, access_token="shpat-token")
    square = sandbox_connection(sandbox_server, retailer, "square")
    now = timezone.now()
    for stream in ("locations", "catalog", "inventory", "orders"):
        SyncSchedule.objects.create(connection=square, stream=stream, interval_seconds=5, next_run_at=now)
    # Every provider call takes a while, so the sync is still running when the fault hits.
    sandbox_server.set_faults("square", latency_ms=700)

    redis = PrivateRedis().start()
    # Recovery clocks shortened from minutes to seconds (what the test may wait for), nothing else changed. The
    # breaker's cool-down (30 s) is one of them: after the provider outage no sync call went out until it ended,
    # so that scenario spent 30 s of its recovery waiting for it; at 5 s the breaker still opens during the 10 s
    # outage, its probes still fail while it lasts, and the first probe after it closes it again.
    env = portal_env(redis.url, **worker_env(sandbox_server), SYNC_HEARTBEAT_TIMEOUT_SECONDS=20,
                     CELERY_VISIBILITY_TIMEOUT_SECONDS=60, SYNC_QUEUED_RESEND_SECONDS=5,
                     WEBHOOK_SWEEP_AFTER_SECONDS=5, SYNC_DISPATCH_JITTER_SECONDS=0, HTTP_BREAKER_COOLDOWN_SECONDS=5)
    if database_url:
        env["DATABASE_URL"] = database_url
    portal = Portal(env).start()
    # FAULTS_WORKER_QUEUES=celery reruns the suite against the code before issue 16 (one default queue).
    queues = os.environ.get("FAULTS_WORKER_QUEUES", "webhooks,syncs,maintenance")
    worker = CeleryWorker(extra_env=env, concurrency=4, queues=queues).start()
    beat = Beat(redis.url).start()
    return Rig(redis, portal, worker, beat, square, sandbox_server, env)


@pytest.fixture
def rig(retailer, sandbox_server):
    rig = build_rig(retailer, sandbox_server)
    try:
        yield rig
    finally:
        rig.stop()


class Rig:
    def __init__(self, redis, portal, worker, beat, square, sandbox, env):
        self.redis, self.portal, self.worker, self.beat = redis, portal, worker, beat
        self.square, self.sandbox, self.env = square, sandbox, env

    def stop(self) -> None:
        self.beat.stop()
        self.worker.stop()
        self.portal.stop()
        self.redis.stop()

    def worker_state(self) -> str:
        alive = self.worker.proc.poll() is None
        output = "".join(self.worker.output)
        if "CRITICAL" in output:  # the whole traceback of a fatal error
            return f"worker alive {alive}; its fatal error:\n" + output[output.index("CRITICAL"):][:8000]
        return (f"worker alive {alive} (exit code {self.worker.proc.returncode}); its log:\n"
                + "".join(line for line in self.worker.output[-400:] if "WARNING" in line or "ERROR" in line
                          or "CRITICAL" in line or "Error" in line)[-6000:])

    def sync_succeeded_after(self, moment) -> bool:
        """Every Square stream has a run that finished successfully after ``moment``."""
        done = set(SyncRun.objects.filter(connection=self.square, status="succeeded", finished_at__gt=moment)
                   .values_list("stream", flat=True))
        return done >= {"locations", "catalog", "inventory", "orders"}


def resumed_runs(connection) -> tuple[int, int]:
    """(runs that failed after saving a cursor, how many of them the next run of the stream resumed from)."""
    runs = list(SyncRun.objects.filter(connection=connection).order_by("pk"))
    interrupted = resumed = 0
    for i, run in enumerate(runs):
        if run.status != "failed" or run.cursor_after is None:
            continue
        following = next((r for r in runs[i + 1:] if r.stream == run.stream), None)
        if following is None:
            continue
        interrupted += 1
        resumed += following.cursor_before == run.cursor_after
    return interrupted, resumed


def run_scenario(rig: Rig, name: str, inject, lift, *, warmup: float = 4.0) -> dict:
    sender = Sender(rig.portal.url).start()
    time.sleep(warmup)
    inject()
    time.sleep(OUTAGE_SECONDS)
    lifted = time.monotonic()
    lifted_at = timezone.now()
    lift()
    time.sleep(3)  # keep sending for a while after the fault is lifted
    assert rig.worker.proc.poll() is None, f"{name}: the worker died. " + rig.worker_state()
    sender.stop()
    acked = sender.acknowledged

    def all_processed():
        return WebhookEvent.objects.filter(event_id__in=list(acked), status="processed").count() == len(acked)

    try:
        wait_until(all_processed, timeout=RECOVERY_TIMEOUT, interval=0.5, what=f"{name}: every event processed")
    except AssertionError:
        statuses = dict(WebhookEvent.objects.filter(event_id__in=list(acked)).values_list("status")
                        .annotate(n=Count("id")).values_list("status", "n"))
        state = rig.worker_state()
        raise AssertionError(f"{name}: acknowledged {len(acked)}, by status {statuses}; {state}") from None
    webhooks_recovered = time.monotonic() - lifted
    try:
        wait_until(lambda: rig.sync_succeeded_after(lifted_at), timeout=RECOVERY_TIMEOUT, interval=0.5,
                   what=f"{name}: every Square stream synced after the fault")
    except AssertionError:
        runs = list(SyncRun.objects.filter(connection=rig.square).order_by("pk")
                    .values_list("stream", "status", "error"))
        raise AssertionError(f"{name}: the sync did not finish after the fault; runs {runs[-12:]}; "
                             + rig.worker_state()) from None
    recovered = time.monotonic() - lifted

    stored = WebhookEvent.objects.filter(event_id__in=list(acked)).count()
    processed = WebhookEvent.objects.filter(event_id__in=list(acked), status="processed").count()
    orders = [int(order_id) for order_id in acked.values()]
    lines = Transaction.objects.filter(external_order_id__in=[str(o) for o in orders])
    duplicated_lines = lines.count() - len(orders)  # one line per order
    key = ("source", "external_account_id", "external_order_id", "external_line_id")
    duplicate_keys = Transaction.objects.values(*key).annotate(n=Count("id")).filter(n__gt=1).count()
    interrupted, resumed = resumed_runs(rig.square)
    figures = {
        "sent": sender.sent, "acknowledged": len(acked), "refused_answers": dict(sender.refused),
        "stored": stored, "processed": processed, "duplicated": duplicated_lines + duplicate_keys,
        "lost": len(acked) - processed, "reprocessed_attempts": WebhookEvent.objects.filter(
            event_id__in=list(acked), attempts__gt=1).count(),
        "webhooks_recovered_s": round(webhooks_recovered, 1), "sync_recovered_s": round(recovered, 1),
        "worker_alive": rig.worker.proc.poll() is None,
        "sync_runs_interrupted": interrupted, "resumed_from_cursor": resumed,
    }
    print_figures(name, figures)
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and stored == len(acked)
    assert len(acked) > 0 and sender.sent == len(acked), "an event was never acknowledged"
    assert resumed == interrupted, "a run after an interrupted one did not start from the cursor it saved"
    return figures


def test_redis_killed_for_ten_seconds_and_restarted(rig):
    figures = run_scenario(rig, "redis killed 10 s", rig.redis.kill, rig.redis.start)
    assert figures["worker_alive"], "the worker exited when Redis went away:\n" + "".join(rig.worker.output[-40:])


def test_worker_sigkilled_mid_sync_and_mid_webhooks_is_replaced(rig):
    """SIGKILL while it holds sync pages and webhook batches; a new worker takes over (as the supervisor in
    ``make run`` or docker's restart policy would start one). Its unacknowledged messages come back after the
    visibility timeout, the sweep re-sends stale events and the dispatcher fails the dead run by its heartbeat;
    the next run of each stream resumes from the saved cursor."""
    busy = wait_until(lambda: SyncRun.objects.filter(connection=rig.square, status="running").exists(), timeout=60,
                      what="a sync run to be running when the worker is killed")
    assert busy

    def restart():
        rig.worker = CeleryWorker(extra_env=rig.env, concurrency=4, queues=rig.worker.queues).start()

    run_scenario(rig, "worker SIGKILL", rig.worker.kill, restart, warmup=2.0)


def test_provider_outage_during_a_sync_resumes_when_the_provider_returns(rig):
    """The sandbox answers every Square call 503 for 10 s: the client retries, then the run fails with the
    provider unavailable (breaker open); once the provider is back the next scheduled run resumes from the cursor."""

    def outage():
        rig.sandbox.set_faults("square", error_rate=1.0, error_status=503)

    def back():
        rig.sandbox.set_faults("square", error_rate=0.0)

    figures = run_scenario(rig, "provider outage", outage, back)
    assert figures["worker_alive"]
    # The outage opened the breaker: runs were refused by it, not only failed by the provider's 503s.
    assert SyncRun.objects.filter(connection=rig.square, status="failed", error__startswith="CircuitOpen").exists()


@pytest.mark.postgres
def test_postgresql_unreachable_for_ten_seconds(retailer, sandbox_server):
    """Every database connection of the portal and the worker is reset and new ones refused for 10 s (a relay
    in front of PostgreSQL; the shared server itself cannot be stopped). Webhooks are answered 503 while it lasts
    (the provider retries), nothing acknowledged is lost and everything is processed after."""
    from django.db import connection

    from tests.processes import database_url_for_current_test_db

    proxy = CuttableTcpProxy(int(connection.settings_dict["PORT"] or 5432)).start()
    url = database_url_for_current_test_db().replace(f":{connection.settings_dict['PORT'] or 5432}/",
                                                     f":{proxy.port}/")
    rig = build_rig(retailer, sandbox_server, database_url=url)
    try:
        figures = run_scenario(rig, "postgresql unreachable 10 s", proxy.cut, proxy.restore)
    finally:
        rig.stop()
        proxy.stop()
    assert figures["refused_answers"].get(503, 0) > 0, "no webhook was answered 503 while the database was down"
    assert 500 not in figures["refused_answers"]
