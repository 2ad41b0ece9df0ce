"""Mapping admin: staff map unmapped items in the list, held rows attach, other retailers' products are refused,
bulk "create products for selected" works, and the pages render."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from inventory.ingest import ingest_items, ingest_locations, ingest_sales
from inventory.models import Product, ProductMapping, Transaction
from inventory.records import Item, Location, SaleLine, Source

URL = "/admin/inventory/productmapping/"


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_superuser("staff", "s@example.com", "pw-staff-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def held(retailer):
    source = Source(retailer.pk, "square", "M1")
    ingest_locations(source, [Location("L1", "Main")])
    ingest_items(source, [Item("SQ1", name="No identifiers")])
    ingest_sales(source, [SaleLine("O1", "1", "L1", "SQ1", Decimal("1.5"), datetime(2026, 1, 1, tzinfo=UTC))])
    return ProductMapping.objects.get()


def changelist_post(mapping, product_id):
    return {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(mapping.pk), "form-0-product": str(product_id), "_save": "Save",
    }


def test_unmapped_list_shows_held_counts(staff, held):
    response = staff.get(URL, {"mapped": "no"})
    assert response.status_code == 200
    assert response.context["cl"].result_list[0].held_transactions == 1
    assert staff.get(f"{URL}{held.pk}/change/").status_code == 200
    assert staff.get("/admin/inventory/storemapping/").status_code == 200


def test_map_to_product_in_list_attaches_held_rows_and_marks_manual(staff, held, retailer):
    product = Product.objects.create(retailer=retailer, name="Resolved")
    response = staff.post(URL, changelist_post(held, product.pk))
    assert response.status_code == 302, response.content[:500]
    held.refresh_from_db()
    assert held.product == product and not held.automatically_generated
    assert Transaction.objects.get().product == product


def test_other_retailers_product_is_refused(staff, held, other_retailer):
    foreign = Product.objects.create(retailer=other_retailer, name="Theirs")
    response = staff.post(URL, changelist_post(held, foreign.pk))
    assert response.status_code == 200  # form redisplayed with the error
    assert b"belongs to another retailer" in response.content
    held.refresh_from_db()
    assert held.product is None


def test_bulk_create_products_action(staff, held):
    response = staff.post(URL, {"action": "create_products", "_selected_action": [held.pk]})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.product.name == "No identifiers"
    assert Transaction.objects.get().product == held.product
