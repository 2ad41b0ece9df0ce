import pytest
from django.test import override_settings

from integrations.models import Connection
from integrations.webhooks.inbox import clear_connection_cache

from .helpers import SHOPIFY_SECRET, SHOPIFY_SHOP, SQUARE_KEY, SQUARE_MERCHANT, SQUARE_URL

WEBHOOK_SETTINGS = {"SQUARE_WEBHOOK_SIGNATURE_KEY": SQUARE_KEY, "SQUARE_WEBHOOK_NOTIFICATION_URL": SQUARE_URL,
                    "SHOPIFY_CLIENT_SECRET": SHOPIFY_SECRET}


@pytest.fixture(autouse=True)
def webhook_settings():
    clear_connection_cache()
    with override_settings(**WEBHOOK_SETTINGS):
        yield
    clear_connection_cache()


@pytest.fixture
def square_connection(retailer):
    return Connection.objects.create(retailer=retailer, provider="square", external_account_id=SQUARE_MERCHANT,
                                     status=Connection.Status.ACTIVE, access_token="sq-token")


@pytest.fixture
def shopify_connection(retailer):
    return Connection.objects.create(retailer=retailer, provider="shopify", external_account_id=SHOPIFY_SHOP,
                                     status=Connection.Status.ACTIVE, access_token="shpat-token")
