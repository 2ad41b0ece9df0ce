"""Where people read a stock check: the run's admin page, the connection's admin page, the merchant's connection
page (and its live JSON), the API's sync runs, ``/metrics``; and staff can run the check alone from the schedules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from integrations.models import SyncRun, SyncSchedule
from integrations.sync import drift
from integrations.sync.reconcile import NAME
from inventory.models import ApiToken
from inventory.records import StockLevel
from inventory.stock_levels import StoredLevel

from .conftest import make_schedules

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def report() -> dict:
    """A real report from the comparison: L1/B differs by 5 (ours 10, theirs 15), L2/C by 4, L3/D missing here."""
    snapshot = drift.merge_snapshot([
        StockLevel("L1", "B", T0, available=Decimal(15)), StockLevel("L2", "C", T0, available=Decimal(3)),
        StockLevel("L3", "D", T0, available=Decimal(1)), StockLevel("L1", "A", T0, available=Decimal(2))])
    ours = [StoredLevel("L1", "B", "", {"available": Decimal(10), "on_hand": None, "committed": None,
                                        "incoming": None}, T0, False),
            StoredLevel("L2", "C", "", {"available": Decimal(7), "on_hand": None, "committed": None,
                                        "incoming": None}, T0, False),
            StoredLevel("L1", "A", "", {"available": Decimal(2), "on_hand": None, "committed": None,
                                        "incoming": None}, T0, False)]
    return drift.compare(snapshot, ours)[0].as_json()


@pytest.fixture
def checked(square_connection):
    make_schedules(square_connection, due=False)
    return SyncRun.objects.create(connection=square_connection, stream=NAME, status="succeeded", trigger="schedule",
                                  started_at=timezone.now(), finished_at=timezone.now(), records_seen=3,
                                  records_updated=2, records_created=1, drift=report())


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    client = Client()
    client.force_login(user)
    return client


WORDS = "2 of 4 levels differed (total 9, largest 5); 1 missing here; 3 healed"


def test_the_run_page_shows_the_drift_figures_and_sample(staff, checked):
    page = staff.get(reverse("admin:integrations_syncrun_change", args=[checked.pk])).content.decode()
    assert "Stock check: drift from the provider" in page and WORDS in page
    assert "<td>differs</td><td>L1</td><td>B</td><td>available 10</td><td>available 15</td><td>5</td>" in page
    assert "<td>missing here</td><td>L3</td><td>D</td><td>-</td><td>available 1</td><td>-</td>" in page
    listing = staff.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert WORDS in listing


def test_other_runs_have_no_stock_check_section(staff, square_connection):
    run = SyncRun.objects.create(connection=square_connection, stream="inventory", status="succeeded")
    page = staff.get(reverse("admin:integrations_syncrun_change", args=[run.pk])).content.decode()
    assert "Stock check" not in page


def test_the_connection_page_shows_the_latest_check(staff, checked, square_connection):
    page = staff.get(reverse("admin:integrations_connection_change", args=[square_connection.pk])).content.decode()
    assert 'id="so-stock-check"' in page and f"run #{checked.pk}" in page and WORDS in page
    assert "<td>available 10</td><td>available 15</td>" in page


def test_the_merchant_sees_the_drift_in_words(client, merchant_user, checked, square_connection):
    client.force_login(merchant_user)
    page = client.get(reverse("portal-connection", args=[square_connection.pk])).content.decode()
    assert f"Stock check: {WORDS}" in page
    status = client.get(reverse("portal-connection-status", args=[square_connection.pk])).json()
    (row,) = [s for s in status["streams"] if s["stream"] == NAME]
    assert row["drift"] == WORDS
    assert {s["drift"] for s in status["streams"] if s["stream"] != NAME} == {""}


def test_the_api_and_metrics_carry_the_drift(client, checked, retailer):
    api = Client(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(retailer, 'ops')[1]}")
    (run,) = [r for r in api.get("/api/v1/sync-runs/").json()["results"] if r["id"] == checked.pk]
    assert run["drift"]["drifted"] == 2 and run["drift"]["largest_difference"] == "5"
    SyncRun.objects.create(connection=checked.connection, stream=NAME, status="succeeded", drift=report())
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(client.get("/metrics").content.decode())
               for s in family.samples}
    assert samples[("shelfops_stock_drift_items_total", frozenset({("provider", "square"), ("kind", "drifted")}))] == 4
    assert samples[("shelfops_stock_drift_items_total",
                    frozenset({("provider", "square"), ("kind", "missing_here")}))] == 2


def test_staff_run_the_check_alone_from_the_schedule_list(staff, square_connection):
    make_schedules(square_connection, due=False)
    schedule = SyncSchedule.objects.get(connection=square_connection, stream=NAME)
    answer = staff.post(reverse("admin:integrations_syncschedule_changelist"),
                        {"action": "run_schedules_now", "_selected_action": [schedule.pk]}, follow=True)
    assert "Queued:" in answer.content.decode()
    (run,) = SyncRun.objects.filter(connection=square_connection)
    assert (run.stream, run.status, run.trigger) == (NAME, "queued", "manual")
    again = staff.post(reverse("admin:integrations_syncschedule_changelist"),
                       {"action": "run_schedules_now", "_selected_action": [schedule.pk]}, follow=True)
    assert "already queued or running" in again.content.decode()
    assert SyncRun.objects.filter(connection=square_connection).count() == 1
