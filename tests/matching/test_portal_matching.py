"""Merchant portal: "N items need matching" on the connection, a page listing them with held sales and stock,
accepting a suggestion or picking a product attaches the held rows; another retailer sees none of it."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Connection
from inventory.ingest import ingest_items, ingest_locations, ingest_sales
from inventory.models import Product, ProductMapping, Transaction
from inventory.records import Item, Location, SaleLine, Source
from tests.test_ingest_mappings import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(retailer):
    sq, sh = Source(retailer.pk, "square", "M1"), Source(retailer.pk, "shopify", "acme.myshopify.com")
    ingest_items(sq, [Item("A", sku="SKU-1", barcode="036000291452", name="Oat Milk"),
                      Item("C", sku="SKU-3", name="Rye Bread")])
    ingest_items(sh, [Item("B", sku="sku-1", barcode="012345678905", name="oat milk"),  # conflicting GTIN
                      Item("D", sku="LOCAL-9", name="Rye loaf")])  # nothing to go by: a new product, matched
    ProductMapping.objects.filter(external_id="D").update(product=None)  # ...say staff unmapped it
    ingest_locations(sh, [Location("9", "Chicago")])
    ingest_sales(sh, [SaleLine("O1", "1", "9", "B", Decimal("2"), T0), SaleLine("O1", "2", "9", "D", Decimal("1"), T0)])
    return Connection.objects.create(retailer=retailer, provider="shopify", external_account_id="acme.myshopify.com",
                                     status=Connection.Status.ACTIVE)


def login(user):
    client = Client()
    client.force_login(user)
    return client


def test_connection_says_how_many_items_need_matching_and_lists_them(shop, merchant_user):
    client = login(merchant_user)
    page = client.get(reverse("portal-connection", args=[shop.pk])).content.decode()
    assert "2 items need matching" in page
    listing = client.get(reverse("portal-matching", args=[shop.pk])).content.decode()
    assert "oat milk" in listing and "different barcodes" in listing and "Oat Milk" in listing
    assert listing.count('data-item="') == 2


def test_accept_a_suggestion_and_pick_a_product(shop, merchant_user):
    client = login(merchant_user)
    b, d = ProductMapping.objects.get(external_id="B"), ProductMapping.objects.get(external_id="D")
    client.post(reverse("portal-matching-resolve", args=[shop.pk, b.pk]), {"accept": "1"})
    b.refresh_from_db()
    assert b.product.sku == "SKU-1" and not b.automatically_generated
    assert Transaction.objects.get(external_line_id="1").product == b.product

    picker = client.get(reverse("portal-matching-pick", args=[shop.pk, d.pk]), {"q": "rye"}).content.decode()
    rye = Product.objects.get(sku="SKU-3")
    assert f'data-product="{rye.pk}"' in picker
    client.post(reverse("portal-matching-resolve", args=[shop.pk, d.pk]), {"product": str(rye.pk)})
    assert Transaction.objects.get(external_line_id="2").product == rye
    assert "need matching" not in client.get(reverse("portal-connection", args=[shop.pk])).content.decode()


def test_other_retailers_and_bad_input_get_404(shop, merchant_user, other_merchant_user, other_retailer):
    b = ProductMapping.objects.get(external_id="B")
    theirs = Product.objects.create(retailer=other_retailer, name="Theirs")
    assert login(other_merchant_user).get(reverse("portal-matching", args=[shop.pk])).status_code == 404
    client = login(merchant_user)
    url = reverse("portal-matching-resolve", args=[shop.pk, b.pk])
    assert client.post(url, {"product": str(theirs.pk)}).status_code == 404
    assert client.post(url, {"product": "x1"}).status_code == 404
    b.refresh_from_db()
    assert b.product is None
