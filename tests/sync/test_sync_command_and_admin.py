"""The ``sync`` command and the admin: "sync now" queues every stream once, the run page shows live progress and
refreshes itself while the run is going, the schedule inline refuses bad intervals and unknown streams."""

import pytest
import responses
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncRun, SyncSchedule
from integrations.sync import engine, services

from .conftest import make_schedules

BASE = "https://square.example.test"


@pytest.fixture
def staff(db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123"))
    return client


def test_sync_command_runs_the_stream_in_process_and_reports_counts(square_connection, settings, capsys):
    settings.SQUARE_BASE_URL = BASE
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/v2/locations", json={"locations": [{"id": "L1", "name": "Main"}]})
        call_command("sync", "MERCHANT-1", "--stream", "locations")
    out = capsys.readouterr().out
    assert "locations: succeeded, 1 pages, 1 records (1 new" in out
    run = SyncRun.objects.get(connection=square_connection)
    assert (run.trigger, run.status, run.full) == ("command", "succeeded", False)


def test_sync_command_errors_are_clear(square_connection, settings):
    with pytest.raises(CommandError, match="no connection 'NOPE'"):
        call_command("sync", "NOPE")
    with pytest.raises(CommandError, match="square has no stream variants"):
        call_command("sync", "square:MERCHANT-1", "--stream", "variants")
    services.create_run(square_connection, "orders", trigger="manual")
    with pytest.raises(CommandError, match="not synced: orders"):
        call_command("sync", str(square_connection.pk), "--stream", "orders", "--full")


def test_sync_command_failure_exits_non_zero_with_the_reason(square_connection, settings):
    settings.SQUARE_BASE_URL = BASE
    settings.HTTP_MAX_ATTEMPTS = 1
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/v2/locations", status=401, json={"errors": [
            {"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED", "detail": "bad token"}]})
        with pytest.raises(CommandError, match="not synced: locations"):
            call_command("sync", "MERCHANT-1", "--stream", "locations")
    run = SyncRun.objects.get(connection=square_connection)
    assert run.status == "failed" and run.error
    assert "test-access-token" not in run.error


def test_sync_now_action_queues_each_stream_once(staff, square_connection, django_capture_on_commit_callbacks):
    url = reverse("admin:integrations_connection_changelist")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for _ in range(2):
            response = staff.post(url, {"action": "sync_now", "_selected_action": [square_connection.pk]},
                                  follow=True)
    assert response.status_code == 200
    assert "4 stream(s) already queued or running" in response.content.decode()
    runs = SyncRun.objects.filter(connection=square_connection)
    assert sorted(r.stream for r in runs) == ["catalog", "inventory", "locations", "orders"]
    assert {r.trigger for r in runs} == {"manual"} and len(callbacks) == 4


def test_run_page_shows_progress_and_refreshes_while_running(staff, square_connection):
    run = services.create_run(square_connection, "orders", trigger="manual")
    engine.claim(run.pk)
    SyncRun.objects.filter(pk=run.pk).update(pages=3, records_seen=2500, started_at=timezone.now()
                                             - timezone.timedelta(seconds=10), heartbeat_at=timezone.now())
    page = staff.get(reverse("admin:integrations_syncrun_change", args=[run.pk])).content.decode()
    assert "2500 records, 3 pages, 250/s" in page
    assert 'http-equiv="refresh"' in page
    SyncRun.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    page = staff.get(reverse("admin:integrations_syncrun_change", args=[run.pk])).content.decode()
    assert 'http-equiv="refresh"' not in page
    listing = staff.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert "2500 records, 3 pages" in listing
    assert "test-access-token" not in page + listing


def test_schedule_inline_validates_interval_and_stream(staff, square_connection):
    (schedule, *_rest) = make_schedules(square_connection)
    url = reverse("admin:integrations_connection_change", args=[square_connection.pk])
    page = staff.get(url).content.decode()
    assert "latest run" in page.lower()
    form = {
        "retailer": square_connection.retailer_id, "provider": "square", "external_account_id": "MERCHANT-1",
        "display_name": "", "status": "active", "problem": "", "auth_mode": "authorization_code", "scopes": "",
        "certificate_id": "", "settings": "{}",
        "schedules-TOTAL_FORMS": "1", "schedules-INITIAL_FORMS": "1", "schedules-MIN_NUM_FORMS": "0",
        "schedules-MAX_NUM_FORMS": "1000",
        "schedules-0-id": schedule.pk, "schedules-0-connection": square_connection.pk,
        "schedules-0-stream": "variants", "schedules-0-enabled": "on", "schedules-0-interval_seconds": "5",
        "schedules-0-next_run_at_0": "2026-12-01", "schedules-0-next_run_at_1": "00:00:00",
    }
    response = staff.post(url, form)
    body = response.content.decode()
    assert response.status_code == 200  # re-rendered with errors, nothing saved
    assert "At least 60 seconds." in body
    assert "square streams are: locations, catalog, inventory, orders, reconcile_stock." in body
    assert SyncSchedule.objects.get(pk=schedule.pk).interval_seconds == schedule.interval_seconds
