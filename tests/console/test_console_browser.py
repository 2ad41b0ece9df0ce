"""In chromium at 1280x800: the dashboard's numbers match the database for a seeded state, every admin list
shows its columns (status and counts included) without horizontal scrolling, and a connection page button works.
With SCREENSHOTS_DIR set, the dashboard and a connection page are saved there (docs/screenshots in the README)."""


import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from integrations.http.store import get_store
from integrations.models import ApiCallLog, OAuthSession, SyncCursor, SyncSchedule, WebhookRejection
from inventory.models import (
    ApiToken,
    InventoryLevel,
    MerchantUser,
    ProductMapping,
    Store,
    StoreMapping,
    Transaction,
)
from tests.browser import save_screenshot

from .seed import seed_operations

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def staff_page(browser, live_server, db):
    get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "ops-password-123")
    page.click("input[type=submit]")
    page.wait_for_selector("#so-dashboard")
    yield page
    context.close()


@pytest.fixture
def seeded(retailer):
    made = seed_operations(retailer, prefix="BRW")
    yield made
    get_store().reset(made["breaker_key"])


def fill_every_list(retailer, made):
    """At least one row in every list, with long values where a column could push the table wide."""
    healthy = made["HEALTHY"]
    store = Store.objects.create(retailer=retailer, name="Main Street flagship store with a long name")
    mapping = StoreMapping.objects.create(retailer=retailer, provider="square", external_account_id="BRW-HEALTHY",
                                          external_id="LOC-LONG-ID-0123456789", store=store)
    product_mapping = ProductMapping.objects.filter(retailer=retailer).first()
    InventoryLevel.objects.create(retailer=retailer, store_mapping=mapping, product_mapping=product_mapping,
                                  source="square", on_hand=5, available=4, as_of=timezone.now())
    Transaction.objects.create(retailer=retailer, source="square", external_account_id="BRW-HEALTHY",
                               external_order_id="ORDER-0123456789ABCDEFGHIJ", external_line_id="LINE-1",
                               store_mapping=mapping, product_mapping=product_mapping, sku="SKU-1", quantity=2,
                               unit_price="3.50", currency="USD", occurred_at=timezone.now())
    ApiCallLog.objects.create(connection=healthy, provider="square", method="POST", status_code=200,
                              url="https://connect.squareup.com/v2/orders/search?cursor=" + "x" * 150,
                              duration_ms=321, budget_left="12.5 of 20", retry_reason="")
    SyncCursor.objects.create(connection=healthy, stream="orders", value={"updated_at": "2026-09-01T10:00:00Z"})
    user = get_user_model().objects.create_user("brw-merchant", password="x-123456789")
    MerchantUser.objects.create(user=user, retailer=retailer)
    OAuthSession.objects.create(provider="square", retailer=retailer, user=user, state="s" * 40,
                                redirect_uri="http://127.0.0.1/integrations/square/callback/",
                                expires_at=timezone.now(), outcome="connected MLABCDEF0123456789")
    WebhookRejection.objects.create(provider="square", reason="bad_signature", day=timezone.localdate(), count=3)
    ApiToken.objects.create(retailer=retailer, name="forecasting service", prefix="abcd1234", key_hash="0" * 64)


def test_dashboard_numbers_match_the_database(seeded, staff_page, live_server):
    page = staff_page
    page.goto(f"{live_server.url}/admin/")
    for label, value in seeded["expected"].items():
        tile = page.locator(f'a.so-tile[data-label="{label}"] .so-n')
        assert tile.inner_text() == str(value), label
        box = tile.bounding_box()
        assert box and box["x"] + box["width"] <= VIEWPORT["width"], label
    assert page.locator("svg.so-chart").count() == 6
    save_screenshot(page, "dashboard")
    # A number leads to its list: the failing streams.
    page.locator('a.so-tile[data-label="Failing streams"]').click()
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == seeded["expected"]["Failing streams"]


def test_every_list_fits_1280_without_horizontal_scroll(staff_page, live_server, retailer, seeded):
    fill_every_list(retailer, seeded)
    page = staff_page
    too_wide = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page.goto(f"{live_server.url}{url}")
        page.wait_for_selector("#changelist")
        overflow = page.evaluate("""() => {
            const table = document.querySelector('#result_list');
            const page = document.documentElement.scrollWidth - window.innerWidth;
            if (!table) return {page, right: 0, rows: 0};
            const cells = [...table.querySelectorAll('thead th')];
            const right = Math.max(...cells.map(c => c.getBoundingClientRect().right));
            const wide = cells.map(c => [c.className.replace('sortable', '').trim(),
                Math.round(c.getBoundingClientRect().width)]).filter(([, w]) => w > 120);
            return {page, right: Math.round(right), rows: table.querySelectorAll('tbody tr').length, wide};
        }""")
        if overflow["page"] > 0 or overflow["right"] > VIEWPORT["width"]:
            too_wide[url] = overflow
    assert not too_wide, "\n".join(f"{u}: {o}" for u, o in too_wide.items())


def test_a_connection_page_button_pauses_syncing(seeded, staff_page, live_server):
    connection = seeded["FAILING"]
    page = staff_page
    page.goto(f"{live_server.url}{reverse('admin:integrations_connection_change', args=[connection.pk])}")
    page.wait_for_selector("#so-connection-related")
    save_screenshot(page, "connection")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the connection page scrolls sideways by {overflow} px at 1280 px"
    page.locator("#so-action-pause").click()
    page.wait_for_selector(".messagelist")
    assert "Paused 2 stream schedule(s)" in page.locator(".messagelist").inner_text()
    assert not SyncSchedule.objects.filter(connection=connection, enabled=True).exists()
    page.locator("#so-action-disconnect").click()
    page.wait_for_selector("#so-confirm")
    page.locator("#so-confirm").click()
    page.wait_for_selector(".messagelist")
    connection.refresh_from_db()
    assert connection.status == "disconnected"
