"""End to end: disconnecting a Shopify shop uninstalls the app the way Shopify documents it (GraphQL
``appUninstall``), which the sandbox serves, counts and honours (every token of the app for the shop stops working);
a revoke that fails is recorded and shown as failed to the merchant and to staff, never as done."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from integrations.models import Connection
from inventory.models import MerchantUser

from .e2e_helpers import sandbox_connection

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

UNINSTALLS = "shopify:app_uninstall"


@pytest.fixture
def merchant_client(retailer):
    user = get_user_model().objects.create_user("shop-owner", password="pw-shop-owner-1")
    MerchantUser.objects.create(user=user, retailer=retailer)
    client = Client()
    client.force_login(user)
    return client


def uninstalls(sandbox) -> int:
    return sandbox.counters().get("events", {}).get(UNINSTALLS, 0)


def test_disconnect_uninstalls_the_app_at_shopify(sandbox, retailer, merchant_client, settings):
    connection = sandbox_connection(sandbox, retailer, "shopify")
    token = connection.access_token
    answer = merchant_client.post(f"/portal/connections/{connection.pk}/disconnect/", follow=True)
    page = answer.content.decode()
    assert answer.status_code == 200 and "is disconnected" in page and "failed" not in page
    assert uninstalls(sandbox) == 1
    assert sandbox.state.tokens[token].revoked  # uninstalling ended the app's access at the shop
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DISCONNECTED and connection.access_token is None
    assert connection.settings["revoke"]["outcome"] == "revoked" and connection.problem == ""


def test_a_failed_uninstall_is_shown_as_failed_to_the_merchant_and_staff(sandbox, retailer, merchant_client,
                                                                          admin_client, settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    connection = sandbox_connection(sandbox, retailer, "shopify")
    token = connection.access_token
    sandbox.set_faults("shopify", fail_next=[403])
    answer = merchant_client.post(f"/portal/connections/{connection.pk}/disconnect/", follow=True)
    page = answer.content.decode()
    assert "is disconnected" not in page
    assert "Removing ShelfOps&#x27; access at Shopify failed (ProviderError HTTP 403)" in page
    assert uninstalls(sandbox) == 0 and not sandbox.state.tokens[token].revoked  # still installed there
    connection.refresh_from_db()
    # Our side is disconnected (the merchant asked for it), and the failure stays visible on the row.
    assert connection.status == Connection.Status.DISCONNECTED and connection.access_token is None
    assert connection.settings["revoke"]["outcome"] == "failed: ProviderError HTTP 403"
    assert "failed" in merchant_client.get("/portal/").content.decode()
    staff_page = admin_client.get(f"/admin/integrations/connection/{connection.pk}/change/").content.decode()
    assert "access at Shopify failed" in staff_page
