"""Resolving an unmapped provider item through the API: the choice sticks and the held sales attach."""

import pytest

from inventory.models import ProductMapping, Transaction

pytestmark = pytest.mark.django_db


def test_unmapped_items_are_listed_and_setting_the_product_attaches_held_sales(acme, acme_client):
    unmapped = acme.product_mappings[-1]
    listed = acme_client.get("/api/v1/mappings/?mapped=false").json()["results"]
    assert [(m["id"], m["is_mapped"], m["product"]) for m in listed] == [(unmapped.pk, False, None)]
    held = Transaction.objects.get(product_mapping=unmapped)
    assert held.product_id is None

    target = acme.products[1]
    answer = acme_client.patch(f"/api/v1/mappings/{unmapped.pk}/", {"product": target.pk}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["product"] == target.pk and answer.json()["is_mapped"] is True
    unmapped.refresh_from_db()
    assert unmapped.product_id == target.pk
    assert unmapped.automatically_generated is False, "a client's choice must not be overwritten by auto-match"
    held.refresh_from_db()
    assert held.product_id == target.pk
    # The held line now shows up under the product, and as a change for clients following updated_at.
    by_product = acme_client.get(f"/api/v1/transactions/?product={target.pk}&page_size=1000").json()["results"]
    assert held.pk in {r["id"] for r in by_product}
    assert acme_client.get("/api/v1/mappings/?mapped=false").json()["results"] == []


def test_unmapping_detaches_the_rows(acme, acme_client):
    mapping = acme.product_mappings[0]
    answer = acme_client.patch(f"/api/v1/mappings/{mapping.pk}/", {"product": None}, format="json")
    assert answer.status_code == 200
    assert not Transaction.objects.filter(product_mapping=mapping, product__isnull=False).exists()


def test_only_the_product_is_writable(acme, acme_client):
    mapping = acme.product_mappings[0]
    answer = acme_client.patch(
        f"/api/v1/mappings/{mapping.pk}/", {"external_id": "hijacked", "retailer": 999}, format="json"
    )
    assert answer.status_code == 200
    assert ProductMapping.objects.get(pk=mapping.pk).external_id == mapping.external_id
    assert acme_client.put(f"/api/v1/mappings/{mapping.pk}/", {"product": None}, format="json").status_code == 405


def test_mapping_an_unknown_location_attaches_its_held_sales(acme, acme_client):
    unmapped = acme.store_mappings[-1]
    held = Transaction.objects.get(store_mapping=unmapped)
    listed = acme_client.get("/api/v1/store-mappings/?mapped=false").json()["results"]
    assert [m["id"] for m in listed] == [unmapped.pk]

    store = acme.stores[1]
    answer = acme_client.patch(f"/api/v1/store-mappings/{unmapped.pk}/", {"store": store.pk}, format="json")

    assert answer.status_code == 200 and answer.json()["store"] == store.pk
    held.refresh_from_db()
    unmapped.refresh_from_db()
    assert held.store_id == store.pk and unmapped.automatically_generated is False
