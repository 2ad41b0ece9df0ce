"""Every model has an admin page staff can open, and secrets never appear in it."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from integrations.models import Connection

SECRETS = ["EAAA-secret-access-token-value", "EQAA-secret-refresh-token-value", "-----BEGIN PRIVATE KEY-----xyz"]


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def connection_with_secrets(retailer):
    return Connection.objects.create(
        retailer=retailer, provider="square", external_account_id="ML-ADMIN", status=Connection.Status.ACTIVE,
        access_token=SECRETS[0], refresh_token=SECRETS[1], private_key=SECRETS[2],
    )


CONTRACT_MODELS = [
    "inventory.Retailer", "inventory.Store", "inventory.Product", "inventory.StoreMapping",
    "inventory.ProductMapping", "inventory.InventoryLevel", "inventory.Transaction", "integrations.Connection",
    "integrations.OAuthSession", "integrations.WebhookEvent", "integrations.SyncCursor", "integrations.SyncRun",
    "integrations.ApiCallLog",
]


def test_every_contract_model_is_registered():
    registered = {f"{m._meta.app_label}.{m.__name__}" for m in admin.site._registry}
    assert set(CONTRACT_MODELS) <= registered


def test_every_registered_changelist_opens(staff_client, connection_with_secrets):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = staff_client.get(url)
        assert response.status_code == 200, url


def test_connection_pages_show_secret_state_never_the_secret(staff_client, connection_with_secrets):
    pages = [
        reverse("admin:integrations_connection_changelist"),
        reverse("admin:integrations_connection_change", args=[connection_with_secrets.pk]),
    ]
    for url in pages:
        html = staff_client.get(url).content.decode()
        for secret in SECRETS:
            assert secret not in html, url
    change = staff_client.get(pages[1]).content.decode()
    assert change.count('<div class="readonly">set</div>') == 3  # access token, refresh token, private key


def test_merchant_users_cannot_open_admin(merchant_user):
    client = Client()
    client.force_login(merchant_user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
