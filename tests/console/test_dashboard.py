"""The admin home is the operations dashboard: its numbers match the database and each links to the list that
shows exactly those rows."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from integrations.http.store import get_store

from .seed import seed_operations


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def seeded(retailer):
    made = seed_operations(retailer)
    yield made
    get_store().reset(made["breaker_key"])


TILE = re.compile(r'<a class="so-tile [^"]*" href="([^"]+)" data-label="([^"]+)"><span class="so-n">([^<]+)</span>')


def tiles(html: str) -> dict[str, tuple[str, str]]:
    return {label: (value, url.replace("&amp;", "&")) for url, label, value in TILE.findall(html)}


def test_admin_home_is_the_dashboard_with_a_shelfops_header(staff_client, seeded):
    html = staff_client.get("/admin/").content.decode()
    assert '<a href="/admin/">ShelfOps</a>' in html
    found = tiles(html)
    for label, value in seeded["expected"].items():
        assert found[label][0] == str(value), label
    assert found["Oldest waiting"][0] == "2 h"


def test_every_number_links_to_a_list_with_that_many_rows(staff_client, seeded):
    found = tiles(staff_client.get("/admin/").content.decode())
    for label, value in seeded["expected"].items():
        url = found[label][1]
        page = staff_client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        body = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', text, re.S)
        shown = body.group(1).count("<tr") if body else 0
        assert shown == value, (label, url, shown)


def test_charts_render_for_both_windows(staff_client, seeded):
    for window in ("24h", "7d"):
        html = staff_client.get(f"/admin/?window={window}").content.decode()
        assert html.count('<svg class="so-chart"') == 6
        assert "succeeded 4" in html  # four successful runs in the seeded state, all within 24 h
        assert "failed 2" in html


def test_closed_hours_are_rolled_up_once_and_read_back(staff_client, seeded):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.console import rollups
    from integrations.models import HourlyRollup, RolledHour, SyncRun

    now = timezone.now()
    first = rollups.hourly(now - timedelta(hours=24), now)
    closed = rollups.floor_hour(now - rollups.GRACE)
    hours = int((closed - rollups.floor_hour(now - timedelta(hours=24))).total_seconds() // 3600)
    assert RolledHour.objects.filter(hour__lt=closed).count() == hours  # 23 or 24, by the minute
    stale_run_hour = rollups.floor_hour(SyncRun.objects.get(connection=seeded["STALE"]).finished_at)
    assert HourlyRollup.objects.get(hour=stale_run_hour, series="runs", provider="square", label="succeeded").count
    # Rolled-up hours are read from the rollup table, not recomputed from the raw rows.
    SyncRun.objects.filter(connection=seeded["STALE"]).delete()
    again = rollups.hourly(now - timedelta(hours=24), now)
    assert again[stale_run_hour][("runs", "square", "succeeded")] == first[stale_run_hour][("runs", "square",
                                                                                            "succeeded")]


def test_oldest_waiting_links_to_the_waiting_events_oldest_first(staff_client, seeded):
    found = tiles(staff_client.get("/admin/").content.decode())
    page = staff_client.get(found["Oldest waiting"][1]).content.decode()
    rows = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    assert rows.count("<tr") == 6  # received 3 + queued 2 + processing 1
    assert rows.index("DASH-evt-1") < rows.index("DASH-evt-6")  # the two-hour-old event comes first


def test_beat_task_rolls_up_closed_hours_once(seeded):
    from shelfops.celery import app

    task = app.tasks["integrations.console.roll_up_hours"]
    assert task() >= 24 * 7 - 1  # every closed hour of the last week, the first time
    assert task() == 0  # nothing left to do
