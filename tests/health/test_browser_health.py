"""In chromium against the sandbox with a real worker: connecting shows first data on the connection page without
a reload; a token revoked at the provider shows "Needs reconnect" after one run; an outage shows the stream
paused with its reason on the page, and lifting it resumes the stream on its own while the page watches."""

from __future__ import annotations

import pytest

from integrations.models import ApiCallLog, Connection, SyncRun
from integrations.sync.tasks import check_connections
from tests.processes import wait_until
from tests.sync.conftest import make_schedules
from tests.sync.e2e_helpers import sandbox_connection, start_worker

from .test_e2e_health import RECOVERY, run_once

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(live_server, settings, sandbox_server):
    settings.BASE_URL = live_server.url
    settings.SQUARE_BASE_URL = f"{sandbox_server.url}/square"
    sandbox_server.set_webhook_target("http://127.0.0.1:9")
    return live_server


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/?next=/portal/")
    page.fill("input[name=username]", "acme-merchant")
    page.fill("input[name=password]", "pw-acme-merchant-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")


def test_connecting_shows_first_data_on_the_page_without_a_reload(page, portal, sandbox_server, merchant_user):
    worker = start_worker(sandbox_server, concurrency=2)
    try:
        log_in(page, portal)
        page.locator("#connect-square button[type=submit]").click()
        page.locator("#allow").click()
        page.wait_for_url(f"{portal.url}/portal/connections/*/")
        page.evaluate("window.__notReloaded = true")
        orders = page.locator('tr[data-stream="orders"]')
        # The initial syncs were queued at connect; the page's script fills in their progress and counts.
        orders.locator(".last-success").filter(has_not_text="never").wait_for(timeout=60_000)
        assert page.evaluate("window.__notReloaded") is True
        assert int(orders.locator(".counts").inner_text().split(" new")[0]) > 0
        assert page.locator('tr[data-stream="inventory"] .state').inner_text() in ("Succeeded", "Running")
    finally:
        worker.stop()
    connection = Connection.objects.get(provider="square")
    assert set(SyncRun.objects.filter(connection=connection, trigger="connect").values_list("stream", flat=True)) == {
        "locations", "catalog", "inventory", "orders"}
    assert connection.display_name == "Sandbox Seller"  # the readable business name, fetched at connect


def test_a_revoked_token_shows_needs_reconnect_after_one_run(page, portal, sandbox_server, retailer,
                                                             merchant_user):
    connection = sandbox_connection(sandbox_server, retailer, "square")
    make_schedules(connection, due=False)
    sandbox_server.state.revoke(lambda t: t.provider == "square")
    worker = start_worker(sandbox_server, concurrency=1)
    try:
        assert run_once(connection, "locations").status == "failed"
    finally:
        worker.stop()
    log_in(page, portal)
    row = page.locator("tr[data-provider=square]")
    assert row.locator(".health").inner_text() == "Needs reconnect"
    assert "Needs reconnect" in page.locator("#health-banner").inner_text()
    page.goto(f"{portal.url}/portal/connections/{connection.pk}/")
    assert page.locator("#health-label").inner_text() == "Needs reconnect"
    assert page.get_by_role("link", name="Reconnect").is_visible()


def test_an_outage_pauses_with_its_reason_and_resumes_on_its_own_while_the_page_watches(
        page, portal, sandbox_server, retailer, merchant_user, settings):
    for key, value in RECOVERY.items():
        setattr(settings, key, value)
    connection = sandbox_connection(sandbox_server, retailer, "square")
    make_schedules(connection, due=False)
    sandbox_server.set_faults("square", error_rate=1.0, error_status=503)
    worker = start_worker(sandbox_server, concurrency=1, **RECOVERY)
    try:
        for _ in range(2):
            assert run_once(connection, "locations").status == "failed"
        log_in(page, portal)
        page.goto(f"{portal.url}/portal/connections/{connection.pk}/")
        assert page.locator("#health-label").inner_text() == "Paused"
        state = page.locator('tr[data-stream="locations"] .state')
        assert state.inner_text().startswith("Paused after 2 failed syncs in a row")
        assert page.locator("#resume").is_visible()

        sandbox_server.clear_faults("square")
        wait_until(lambda: check_connections()["resumed"] or None, timeout=30, interval=1.0, what="resume")
        page.locator('tr[data-stream="locations"] .state', has_text="Succeeded").wait_for(timeout=60_000)
        assert page.locator("#health-label").inner_text() != "Paused"
    finally:
        worker.stop()


def test_a_refused_record_shows_on_the_run_and_the_page(page, portal, sandbox_server, retailer, merchant_user):
    connection = sandbox_connection(sandbox_server, retailer, "square")
    make_schedules(connection, due=False)
    worker = start_worker(sandbox_server, concurrency=2)
    try:
        for stream in ("locations", "catalog", "inventory"):
            assert run_once(connection, stream).status == "succeeded"
        # A count no stock level can hold (the provider's data is wrong): ingest refuses that one record.
        sandbox_server.change_stock("square", item=0, location=0, on_hand=10**20)
        run = run_once(connection, "inventory")
    finally:
        worker.stop()
    assert run.status == "succeeded_with_errors" and run.records_refused == 1, (run.status, run.error)
    log_in(page, portal)
    page.goto(f"{portal.url}/portal/connections/{connection.pk}/")
    row = page.locator('tr[data-stream="inventory"]')
    assert row.locator(".state").inner_text() == "Succeeded with errors"
    assert "1 refused" in row.locator(".counts").inner_text()
    assert "out of range" in row.locator(".refused").first.inner_text()
    assert "1 record(s) refused" in page.locator("#health-reasons").inner_text()


def test_15_percent_transient_errors_a_full_sync_finishes_while_the_page_watches(page, live_server, settings,
                                                                                 many_pages, retailer,
                                                                                 merchant_user):
    settings.BASE_URL = live_server.url
    connection = sandbox_connection(many_pages, retailer, "square")
    make_schedules(connection, due=False)
    many_pages.set_faults("square", error_rate=0.10, rate_limit_rate=0.05, error_status=503)
    worker = start_worker(many_pages, concurrency=2, HTTP_BREAKER_FAILURES=3)
    try:
        log_in(page, live_server)
        page.goto(f"{live_server.url}/portal/connections/{connection.pk}/")
        page.locator("#sync-now").click()
        orders = page.locator('tr[data-stream="orders"]')
        orders.locator(".state", has_text="Succeeded").wait_for(timeout=240_000)
    finally:
        worker.stop()
    assert orders.locator(".last-error").inner_text() == ""
    assert ApiCallLog.objects.filter(connection=connection, status_code=503).count() >= 3
    assert SyncRun.objects.get(connection=connection, stream="orders", trigger="manual").pages >= 25
