"""In chromium: staff accept suggestions in bulk and merge two stores in admin; a merchant resolves an item from
the portal and its held sales appear under the product in the API."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from inventory.ingest import ingest_items, ingest_locations, ingest_sales
from inventory.models import CatalogMerge, Product, ProductMapping, Store, Transaction
from inventory.records import Item, Location, SaleLine, Source
from tests.api.conftest import token_client
from tests.browser import save_screenshot
from tests.test_ingest_mappings import T0

from .test_portal_matching import shop  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff_login(page, live_server):
    get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "ops-password-123")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def run_action(page, action: str):
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist")


def test_staff_bulk_accept_and_store_merge(page, live_server, retailer):
    sq, sh = Source(retailer.pk, "square", "M1"), Source(retailer.pk, "shopify", "acme.myshopify.com")
    gtins, other = ["036000291452", "012345678905", "042100005264"], ["073854008089", "096619756803", "012000161155"]
    ingest_items(sq, [Item(f"SQ{i}", sku=f"SKU-{i}", barcode=g, name=f"Tea {i}") for i, g in enumerate(gtins)])
    ingest_items(sh, [Item(f"SH{i}", sku=f"sku-{i}", barcode=g, name=f"tea {i}") for i, g in enumerate(other)])
    ingest_locations(sq, [Location("L1", "Chicago #3", address="121 Park Street, Chicago")])
    ingest_locations(sh, [Location("9", "Chicago Park", address="121 Park Avenue, Chicago")])  # not the same key
    ingest_sales(sh, [SaleLine("O1", "1", "9", "SH0", Decimal("2"), T0)])
    staff_login(page, live_server)

    page.goto(f"{live_server.url}/admin/inventory/productmapping/?review=suggested")
    assert page.locator("table.evidence").count() == 3
    save_screenshot(page, "matching-review")
    page.check("#action-toggle")
    run_action(page, "accept_suggestions")
    assert "Accepted 3 suggestion(s)" in page.inner_text("ul.messagelist")
    assert not ProductMapping.objects.filter(product__isnull=True).exists()

    page.goto(f"{live_server.url}/admin/inventory/store/")
    for box in page.locator("input.action-select").all():
        box.check()
    run_action(page, "merge_two")
    assert "Merged" in page.inner_text("ul.messagelist")
    kept = Store.objects.order_by("pk").first()
    assert Store.objects.filter(is_active=True).get() == kept
    assert Transaction.objects.get().store == kept and CatalogMerge.objects.get().rows_moved == 1


def test_merchant_resolves_an_item_and_the_api_shows_its_sales(page, live_server, shop, merchant_user, retailer):  # noqa: F811
    page.goto(f"{live_server.url}/portal/connections/{shop.pk}/")
    page.fill("#id_username", "acme-merchant")
    page.fill("#id_password", "pw-acme-merchant-1")
    page.click("button[type=submit]")
    page.click("text=2 items need matching")
    save_screenshot(page, "portal-matching")
    row = page.locator("tr[data-external-id=D]")
    row.locator("text=Pick a product").click()
    page.fill("input[name=q]", "rye")
    page.click("button:has-text('Search')")
    page.locator("tr[data-product] button:has-text('This one')").first.click()
    page.wait_for_selector("ul.messages")
    assert "is now Rye Bread" in page.inner_text("ul.messages")
    assert page.locator("tr[data-external-id=D]").count() == 0

    rye = Product.objects.get(sku="SKU-3")
    sales = token_client(retailer).get(f"/api/v1/transactions/?product={rye.pk}").json()["results"]
    assert [(s["external_order_id"], s["external_line_id"]) for s in sales] == [("O1", "2")]
