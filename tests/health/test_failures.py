"""Recovery without a person: retry soon after an outage, pause after N failures with a reason, resume on a
successful test, a reconnect or a click; a dead grant needs reconnect."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from integrations.http.errors import CircuitOpen, ProviderAuthError, ProviderError
from integrations.models import Connection, SyncRun, SyncSchedule
from integrations.sync import failures

pytestmark = pytest.mark.django_db


def failed(connection, stream="orders", error="ProviderUnavailable: down"):
    return SyncRun.objects.create(connection=connection, stream=stream, status="failed", error=error,
                                  trigger="schedule")


def schedule(connection, stream="orders"):
    return SyncSchedule.objects.get(connection=connection, stream=stream)


def test_a_run_cut_short_by_an_open_breaker_is_retried_in_minutes_not_at_the_next_slot(connection, settings):
    settings.SYNC_RETRY_BASE_SECONDS = 60
    before = schedule(connection).next_run_at  # an hour away
    failures.after_failure(failed(connection), CircuitOpen("circuit open", retry_after=25.0))
    retry_at = schedule(connection).next_run_at
    assert retry_at < before
    assert timedelta(seconds=55) <= retry_at - timezone.now() <= timedelta(seconds=61)
    # The second failure backs off further (120 s), never later than the schedule itself.
    failures.after_failure(failed(connection), CircuitOpen("circuit open", retry_after=5.0))
    assert schedule(connection).consecutive_failures == 2


def test_a_long_retry_after_wins_over_the_backoff():
    assert failures.retry_delay(1, 300.0) == 300.0
    assert failures.retry_delay(3, None) == 240.0
    assert failures.retry_delay(10, None) == 900.0


def test_a_non_transient_failure_keeps_the_schedule(connection):
    before = schedule(connection).next_run_at
    failures.after_failure(failed(connection, error="ProviderError: HTTP 400"), ProviderError("bad request"))
    assert schedule(connection).next_run_at == before


def test_n_failures_in_a_row_past_the_grace_pause_the_stream_with_a_reason(connection, settings):
    settings.SYNC_PAUSE_AFTER_FAILURES = 3
    settings.SYNC_PAUSE_GRACE_SECONDS = 0
    for _ in range(2):
        failures.after_failure(failed(connection), CircuitOpen("circuit open"))
    assert schedule(connection).paused_at is None
    failures.after_failure(failed(connection, error="CircuitOpen: circuit open for square"), CircuitOpen("x"))
    paused = schedule(connection)
    assert paused.paused_at is not None
    assert paused.paused_reason.startswith("Paused after 3 failed syncs in a row")
    assert "the provider kept failing" in paused.paused_reason


def test_the_grace_period_holds_the_pause_back(connection, settings):
    settings.SYNC_PAUSE_AFTER_FAILURES = 2
    settings.SYNC_PAUSE_GRACE_SECONDS = 3600
    for _ in range(4):
        failures.after_failure(failed(connection), CircuitOpen("x"))
    assert schedule(connection).paused_at is None


def test_the_dispatcher_skips_paused_streams_and_resume_queues_them(connection, django_capture_on_commit_callbacks):
    from integrations.sync import dispatch

    SyncSchedule.objects.filter(connection=connection).update(next_run_at=timezone.now() - timedelta(seconds=1))
    SyncSchedule.objects.filter(connection=connection, stream="orders").update(
        paused_at=timezone.now(), paused_reason="Paused after 5 failed syncs", consecutive_failures=5)
    sent = []
    dispatch.dispatch_due(jitter_seconds=0, send=sent.extend)
    assert sorted(SyncRun.objects.values_list("stream", flat=True)) == ["catalog", "inventory", "locations",
                                                                        "reconcile_stock"]
    assert failures.resume(connection) == ["orders"]
    assert SyncRun.objects.filter(stream="orders", status="queued", trigger="manual").exists()
    fresh = schedule(connection)
    assert (fresh.paused_at, fresh.paused_reason, fresh.consecutive_failures) == (None, "", 0)


def test_a_successful_test_call_resumes_paused_streams_on_its_own(connection, settings):
    settings.SQUARE_BASE_URL = "https://square.example.test"
    SyncSchedule.objects.filter(connection=connection, stream="orders").update(
        paused_at=timezone.now(), paused_reason="Paused")
    with responses.RequestsMock() as rsps:
        rsps.get("https://square.example.test/v2/locations", status=503, json={})
        settings.HTTP_MAX_ATTEMPTS = 1
        assert failures.probe_paused() == 0
    assert schedule(connection).paused_at is not None
    with responses.RequestsMock() as rsps:
        rsps.get("https://square.example.test/v2/locations", json={"locations": []})
        assert failures.probe_paused() == 1
    assert schedule(connection).paused_at is None


def test_an_auth_failure_after_the_forced_refresh_needs_reconnect(connection):
    failures.after_failure(failed(connection, error="ProviderAuthError: HTTP 401"), ProviderAuthError("401"))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert connection.problem == "Square access was revoked or has expired: reconnect."
