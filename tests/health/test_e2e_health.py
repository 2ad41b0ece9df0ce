"""End to end against the sandbox with a real Celery worker and PostgreSQL/Redis: a revoked token shows "needs
reconnect" after one run; 15% transient 5xx/429 slow a full sync but it finishes; an outage pauses a stream with
its reason and lifting it resumes the stream on its own (the periodic health check's probe)."""

from __future__ import annotations

import pytest

from integrations.health import connection_health
from integrations.models import ApiCallLog, Connection, SyncRun, SyncSchedule
from integrations.sync import dispatch, services
from integrations.sync.tasks import check_connections
from inventory.models import Transaction
from tests.processes import wait_until
from tests.sync.conftest import make_schedules
from tests.sync.e2e_helpers import finished, sandbox_connection, start_worker

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RECOVERY = {"SYNC_PAUSE_AFTER_FAILURES": 2, "SYNC_PAUSE_GRACE_SECONDS": 0, "SYNC_RETRY_BASE_SECONDS": 1,
            "HTTP_BREAKER_COOLDOWN_SECONDS": 1, "HTTP_MAX_ATTEMPTS": 3,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.set_webhook_target("http://127.0.0.1:9")
    return sandbox_server


def run_once(connection, stream, timeout=120) -> SyncRun:
    run = services.request_sync(connection, stream, trigger="manual")
    assert run is not None
    (done,) = wait_until(lambda: finished([run]), timeout=timeout, interval=0.2, what=f"{stream} run")
    return done


def test_a_token_revoked_at_the_provider_needs_reconnect_after_one_run(sandbox, retailer):
    connection = sandbox_connection(sandbox, retailer, "square")
    make_schedules(connection, due=False)
    sandbox.state.revoke(lambda t: t.provider == "square")
    worker = start_worker(sandbox, concurrency=1)
    try:
        run = run_once(connection, "locations")
    finally:
        worker.stop()
    assert run.status == "failed"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert connection.health_state == "needs_reconnect"
    assert "reconnect" in connection_health(connection).reasons[0].text


def test_15_percent_transient_errors_slow_a_full_sync_but_it_finishes(many_pages, retailer):
    sandbox = many_pages
    connection = sandbox_connection(sandbox, retailer, "square")
    make_schedules(connection, due=False)
    # The sandbox's fault RNG is seeded, so the same calls fail on every run of this test.
    sandbox.set_faults("square", error_rate=0.10, rate_limit_rate=0.05, error_status=503)
    # With a count-only breaker, 3 failures within a minute would cut the orders run short.
    worker = start_worker(sandbox, concurrency=2, HTTP_BREAKER_FAILURES=3)
    try:
        runs = [services.request_sync(connection, s, trigger="manual") for s in services.stream_names(connection)]
        done = wait_until(lambda: finished(runs), timeout=300, interval=0.25, what="sync runs")
    finally:
        worker.stop()
    assert {r.stream: r.status for r in done} == {s: "succeeded" for s in services.stream_names(connection)}
    assert Transaction.objects.filter(retailer=retailer).count() == sandbox.merchant("square").count_order_lines()
    failed_calls = ApiCallLog.objects.filter(connection=connection, status_code=503).count()
    assert failed_calls >= 3, failed_calls  # the faults really happened, more than the breaker's count


def test_an_outage_pauses_the_stream_with_its_reason_and_lifting_it_resumes_on_its_own(sandbox, retailer,
                                                                                        settings):
    for key, value in RECOVERY.items():
        setattr(settings, key, value)
    connection = sandbox_connection(sandbox, retailer, "square")
    make_schedules(connection, due=False)
    sandbox.set_faults("square", error_rate=1.0, error_status=503)
    worker = start_worker(sandbox, concurrency=1, **RECOVERY)
    try:
        first = run_once(connection, "locations")
        assert first.status == "failed"
        retry = SyncSchedule.objects.get(connection=connection, stream="locations")
        assert retry.consecutive_failures == 1 and retry.paused_at is None
        # The retry comes in seconds (here: base 1 s), not at the next daily slot; the dispatcher queues it.
        wait_until(lambda: dispatch.dispatch_due(jitter_seconds=0)["queued"] or None, timeout=30, interval=0.5,
                   what="the retry to fall due")
        wait_until(lambda: SyncSchedule.objects.filter(connection=connection, stream="locations",
                                                       paused_at__isnull=False).first(),
                   timeout=120, interval=0.3, what="the stream to pause")
        paused = SyncSchedule.objects.get(connection=connection, stream="locations")
        assert paused.paused_reason.startswith("Paused after 2 failed syncs in a row")
        health = connection_health(connection)
        assert health.state == "paused" and "Locations: Paused after 2 failed syncs" in health.reasons[0].text

        check_connections()  # still down: the probe fails, the stream stays paused
        assert SyncSchedule.objects.get(pk=paused.pk).paused_at is not None

        sandbox.clear_faults("square")
        wait_until(lambda: check_connections()["resumed"] or None, timeout=30, interval=1.0,
                   what="the probe to resume the stream")
        resumed = SyncRun.objects.filter(connection=connection, stream="locations", trigger="recovery").first()
        (done,) = wait_until(lambda: finished([resumed]), timeout=120, interval=0.3, what="the resumed run")
    finally:
        worker.stop()
    assert done.status == "succeeded"
    connection.refresh_from_db()
    assert connection.health_state in ("healthy", "degraded")  # degraded only for streams never synced here
    assert not any(r["code"].startswith(("paused:", "failing:")) for r in connection.health_reasons)
