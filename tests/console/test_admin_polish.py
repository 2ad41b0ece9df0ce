"""The connection page (streams, runs, webhooks, calls, mappings, action buttons), status badges, schedule
intervals in words, pretty JSON, admin names as people write them."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import ApiCallLog, Connection, SyncRun, SyncSchedule, WebhookEvent
from inventory.models import ProductMapping


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def connection(retailer):
    c = Connection.objects.create(retailer=retailer, provider="square", external_account_id="ML-PAGE",
                                  status="active", access_token="EAAA-page-secret-token")
    for stream in ("locations", "orders"):
        SyncSchedule.objects.create(connection=c, stream=stream, interval_seconds=900, next_run_at=timezone.now())
    SyncRun.objects.create(connection=c, stream="orders", status="failed", error="boom")
    WebhookEvent.objects.create(provider="square", connection=c, event_id="evt-page-1", topic="order.updated",
                                body=b'{"a": {"b": [1, 2]}}', status="processed", headers={"User-Agent": "Square"})
    ApiCallLog.objects.create(connection=c, provider="square", method="GET", url="https://sq/v2/locations",
                              status_code=429, duration_ms=12)
    ProductMapping.objects.create(retailer=retailer, provider="square", external_account_id="ML-PAGE",
                                  external_id="VAR-1")
    return c


def page_of(staff, connection) -> str:
    return staff.get(reverse("admin:integrations_connection_change", args=[connection.pk])).content.decode()


def test_connection_page_shows_its_streams_runs_webhooks_calls_mappings_and_buttons(staff, connection):
    html = page_of(staff, connection)
    for marker in ("so-streams", "so-runs", "so-webhooks", "so-calls", "so-mappings"):
        assert f'id="{marker}"' in html
    assert "every 15 minutes" in html and "order.updated" in html and "https://sq/v2/locations" in html
    assert 'data-status="failed"' in html and 'data-status="429"' in html
    assert "1 waiting for matching" in html
    for key in ("sync", "full_resync", "test", "refresh", "pause", "resume", "disconnect"):
        assert f'id="so-action-{key}"' in html
    assert "EAAA-page-secret-token" not in html


def test_buttons_run_the_admin_actions(staff, connection):
    url = lambda action: reverse("admin:integrations_connection_button", args=[connection.pk, action])  # noqa: E731
    staff.post(url("pause"))
    assert not SyncSchedule.objects.filter(connection=connection, enabled=True).exists()
    staff.post(url("resume"))
    assert SyncSchedule.objects.filter(connection=connection, enabled=True).count() == 2
    response = staff.post(url("sync"), follow=True)
    assert "queued locations, catalog, inventory, orders" in response.content.decode()
    assert SyncRun.objects.filter(connection=connection, status="queued").count() == 4
    assert staff.get(url("sync")).status_code == 405  # actions change state: POST only
    assert staff.post(url("nonsense")).status_code == 404


def test_disconnect_asks_for_confirmation_first(staff, connection):
    url = reverse("admin:integrations_connection_button", args=[connection.pk, "disconnect"])
    confirm = staff.get(url)
    assert confirm.status_code == 200 and "Yes, disconnect" in confirm.content.decode()
    staff.post(url)  # without the confirmation field: nothing happens
    connection.refresh_from_db()
    assert connection.status == "active"
    staff.post(url, {"confirmed": "yes"})
    connection.refresh_from_db()
    assert connection.status == "disconnected" and not connection.access_token


def test_schedule_intervals_are_edited_in_words(staff, connection):
    schedule = SyncSchedule.objects.get(connection=connection, stream="orders")
    change = reverse("admin:integrations_syncschedule_change", args=[schedule.pk])
    assert 'value="15 minutes"' in staff.get(change).content.decode()
    form = {"connection": connection.pk, "stream": "orders", "enabled": "on", "interval_seconds": "every 2 hours",
            "next_run_at_0": "2026-09-01", "next_run_at_1": "10:00:00", "last_outcome": ""}
    response = staff.post(change, form)
    assert response.status_code == 302, re.findall(r'<ul class="errorlist.*?</ul>', response.content.decode(), re.S)
    schedule.refresh_from_db()
    assert schedule.interval_seconds == 7200
    form["interval_seconds"] = "sometimes"
    assert "Write an interval such as" in staff.post(change, form).content.decode()


def test_webhook_payload_is_pretty_and_collapsible(staff, connection):
    event = WebhookEvent.objects.get(event_id="evt-page-1")
    html = staff.get(reverse("admin:integrations_webhookevent_change", args=[event.pk])).content.decode()
    assert '<details class="so-json" open><summary>payload' in html
    assert '&quot;a&quot;: {\n    &quot;b&quot;: [\n      1,' in html


def test_admin_names_are_spelled_as_people_write_them(staff):
    names = {m._meta.verbose_name_plural for m in admin.site._registry}
    assert {"OAuth sessions", "API call logs", "API tokens"} <= {str(n) for n in names}
    assert admin.site.site_header == "ShelfOps"


def test_run_and_webhook_lists_refresh_live(staff, connection):
    SyncRun.objects.create(connection=connection, stream="locations", status="running")
    runs = staff.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert 'data-seconds="5"' in runs and "shelfops/live.js" in runs
    hooks = staff.get(reverse("admin:integrations_webhookevent_changelist")).content.decode()
    assert 'data-seconds="30"' in hooks  # nothing in flight: the slow pace
