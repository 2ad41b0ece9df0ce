"""In chromium: the merchant's connection page shows a stock check's drift in words as the check finishes, without a
reload (a real worker, the sandbox, PostgreSQL; the drift made by a silent stock change at the sandbox)."""

from __future__ import annotations

import pytest
import requests

from integrations.sync import services
from integrations.sync.reconcile import NAME
from tests.browser import save_screenshot

from .conftest import make_schedules
from .e2e_helpers import sandbox_connection, sync_all

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_connection_page_shows_the_check_as_it_finishes(page, live_server, sandbox, worker, merchant_user,
                                                            retailer):
    connection = sandbox_connection(sandbox, retailer, "square")
    make_schedules(connection, due=False)
    sync_all(connection)
    held = requests.get(f"{sandbox.url}/_sandbox/square/default/stock?item=1&location=0", timeout=5).json()
    requests.post(f"{sandbox.url}/_sandbox/square/default/stock", timeout=5,
                  json={"item": 1, "location": 0, "on_hand": held["on_hand"] + 6, "silent": True}).raise_for_status()

    page.goto(f"{live_server.url}/accounts/login/?next=/portal/")
    page.fill("input[name=username]", "acme-merchant")
    page.fill("input[name=password]", "pw-acme-merchant-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.goto(f"{live_server.url}/portal/connections/{connection.pk}/")
    row = page.locator(f'tr[data-stream="{NAME}"]')
    assert row.locator(".state").inner_text() == "Not synced yet"
    assert services.request_sync(connection, NAME, trigger="manual") is not None
    row.locator(".drift", has_text="Stock check: 1 of").wait_for(timeout=90_000)
    text = row.locator(".drift").inner_text()
    assert "(total 6, largest 6)" in text and "1 healed" in text
    assert row.locator(".state").inner_text() == "Succeeded"
    save_screenshot(page, "portal-stock-check")
