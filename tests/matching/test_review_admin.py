"""Staff review queue in admin: suggestions with evidence side by side, accept/reject many, accept all above a
confidence for one retailer, and an autocomplete product picker."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from inventory.ingest import ingest_items, ingest_locations, ingest_sales
from inventory.models import Product, ProductMapping, StoreMapping, Transaction
from inventory.records import Item, Location, SaleLine, Source
from tests.test_ingest_mappings import T0

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:inventory_productmapping_changelist"


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def conflicts(retailer):
    """Three Shopify items whose SKU matches a Square product but whose GTIN differs: three suggestions."""
    sq, sh = Source(retailer.pk, "square", "M1"), Source(retailer.pk, "shopify", "acme.myshopify.com")
    gtins = ["036000291452", "012345678905", "042100005264"]
    other = ["073854008089", "096619756803", "012000161155"]
    ingest_items(sq, [Item(f"SQ{i}", sku=f"SKU-{i}", barcode=g, name=f"Tea {i}") for i, g in enumerate(gtins)])
    ingest_items(sh, [Item(f"SH{i}", sku=f"sku-{i}", barcode=g, name=f"tea {i}") for i, g in enumerate(other)])
    ingest_locations(sh, [Location("L1", "Main")])
    ingest_sales(sh, [SaleLine("O1", "1", "L1", "SH0", Decimal("2"), T0)])
    return ProductMapping.objects.filter(provider="shopify").order_by("external_id")


def test_queue_shows_evidence_side_by_side(staff_client, conflicts):
    page = staff_client.get(reverse(CHANGELIST), {"review": "suggested"})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="evidence"') == 3
    assert "012345678905" in html and "096619756803" in html  # both barcodes, side by side
    assert "different barcodes" in html


def test_bulk_accept_and_reject(staff_client, conflicts):
    first, second, third = conflicts
    answer = staff_client.post(reverse(CHANGELIST), {"action": "accept_suggestions",
                                                     "_selected_action": [first.pk, second.pk]}, follow=True)
    assert "Accepted 2 suggestion(s)" in answer.content.decode()
    first.refresh_from_db()
    assert first.product == Product.objects.get(sku="SKU-0") and not first.automatically_generated
    assert Transaction.objects.get().product == first.product  # held sale attached
    staff_client.post(reverse(CHANGELIST), {"action": "reject_suggestions", "_selected_action": [third.pk]})
    third.refresh_from_db()
    assert third.product is None and third.suggested_product is None and "rejected" in third.suggestion_reason
    ingest_items(Source(third.retailer_id, "shopify", "acme.myshopify.com"),
                 [Item("SH2", sku="sku-2", barcode="012000161155", name="tea 2 (renamed)")])
    third.refresh_from_db()
    assert third.suggested_product is None  # a rejection is a person's decision: not suggested again


def test_accept_all_above_a_confidence_for_one_retailer(staff_client, conflicts, retailer, other_retailer):
    url = reverse("admin:inventory_productmapping_accept_above")
    assert staff_client.get(url).status_code == 200
    assert staff_client.post(url, {"retailer": retailer.pk, "threshold": "0.9"}).status_code == 302
    assert ProductMapping.objects.filter(provider="shopify", product__isnull=True).count() == 3  # all were 0.5
    assert staff_client.post(url, {"retailer": other_retailer.pk, "threshold": "0.1"}).status_code == 302
    assert ProductMapping.objects.filter(provider="shopify", product__isnull=True).count() == 3  # walls
    staff_client.post(url, {"retailer": retailer.pk, "threshold": "0.5"})
    assert not ProductMapping.objects.filter(provider="shopify", product__isnull=True).exists()
    assert staff_client.post(url, {"retailer": retailer.pk, "threshold": "7"}).status_code == 200  # form error


def test_product_picker_is_an_autocomplete(staff_client, conflicts):
    mapping = conflicts.first()
    page = staff_client.get(reverse("admin:inventory_productmapping_change", args=[mapping.pk])).content.decode()
    assert "admin-autocomplete" in page
    found = staff_client.get(reverse("admin:autocomplete"), {
        "app_label": "inventory", "model_name": "productmapping", "field_name": "product", "term": "SKU-1"})
    assert [r["text"] for r in found.json()["results"]] == ["Tea 1 (SKU-1)"]


def test_store_queue_shows_address_and_timezone_side_by_side(staff_client, retailer):
    sq, ns = Source(retailer.pk, "square", "M1"), Source(retailer.pk, "netsuite", "TSTDRV_1")
    ingest_locations(sq, [Location("L1", "Chicago #3", "America/Chicago", "121 Park Street, Chicago, IL, US")])
    ingest_locations(ns, [Location("3", "IL-003 CHICAGO", "America/Denver", "121 PARK ST., Chicago, IL 97002")])
    page = staff_client.get(reverse("admin:inventory_storemapping_changelist"), {"review": "suggested"})
    html = page.content.decode()
    assert html.count('class="evidence"') == 1
    assert "America/Denver" in html and "America/Chicago" in html and "121 PARK ST., Chicago" in html
    accept_above = reverse("admin:inventory_storemapping_accept_above")
    staff_client.post(accept_above, {"retailer": retailer.pk, "threshold": "0.5"})
    assert StoreMapping.objects.get(provider="netsuite").store == StoreMapping.objects.get(provider="square").store
