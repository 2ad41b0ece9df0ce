"""In a real browser (Debian's chromium via Playwright): a merchant logs in, connects Square, Shopify and NetSuite
against the running sandbox, clicks Allow, and lands on the portal with the connection active; a denial shows
the error page. The sandbox runs in-process on a free port; the portal is pytest-django's live_server."""

import pytest

from integrations.models import Connection, SyncSchedule
from integrations.providers import get_provider

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def sandbox_for_portal(live_server, settings, sandbox_server):
    """The shared sandbox, with the portal (live_server) as its redirect and webhook target."""
    settings.BASE_URL = live_server.url
    sandbox_server.set_webhook_target(live_server.url)
    return sandbox_server


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/?next=/portal/")
    page.fill("input[name=username]", "acme-merchant")
    page.fill("input[name=password]", "pw-acme-merchant-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")


@pytest.mark.parametrize("provider, field, value, account, name", [
    ("square", None, None, None, "Sandbox Seller"),
    ("shopify", "shop", "demo-shop.myshopify.com", "demo-shop.myshopify.com", "demo-shop"),
    ("netsuite", "account", "1234567_SB1", "1234567_SB1", "Sandbox Company 1234567-SB1"),
])
def test_merchant_connects_in_a_browser(page, live_server, sandbox_for_portal, merchant_user,
                                        provider, field, value, account, name):
    log_in(page, live_server)
    form = page.locator(f"#connect-{provider}")
    if field:
        form.locator(f"input[name={field}]").fill(value)
    form.locator("button[type=submit]").click()
    page.locator("#allow").click()  # the provider's consent page (sandbox)
    page.wait_for_url(f"{live_server.url}/portal/connections/*/")
    assert "is connected" in page.content()
    assert page.locator(".status").first.inner_text() == "Active"
    connection = Connection.objects.get(provider=provider)
    assert connection.status == Connection.Status.ACTIVE and connection.access_token
    if account:
        assert connection.external_account_id == account
    # One schedule per stream the provider declares (its data streams, the stock check, NetSuite's deletes).
    expected = set(get_provider(provider).schedule_defaults)
    assert {"reconcile_stock"} < expected
    assert set(SyncSchedule.objects.filter(connection=connection, enabled=True)
               .values_list("stream", flat=True)) == expected
    page.goto(f"{live_server.url}/portal/")
    row = page.locator(f"tr[data-provider={provider}]")
    assert row.locator(".status").inner_text() == "Active"
    # The account's readable name fetched at connect, not its id (Square business name, Shopify shop name,
    # NetSuite company name).
    assert connection.display_name == name and name in row.inner_text()
    if provider == "shopify":
        hooks = connection.settings["webhooks"]
        assert len(hooks["registered"]) == 8 and hooks["failed"] == [], hooks  # incl. PRODUCTS_DELETE, REFUNDS_CREATE


def test_denial_in_a_browser_shows_the_error_page(page, live_server, sandbox_for_portal, merchant_user):
    log_in(page, live_server)
    page.locator("#connect-square button[type=submit]").click()
    page.locator("#deny").click()
    page.wait_for_url(f"{live_server.url}/integrations/square/callback/*")
    text = page.content()
    assert "Could not connect Square" in text and "You declined access on Square" in text
    assert not Connection.objects.exists()
