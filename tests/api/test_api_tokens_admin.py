"""Staff manage API tokens in admin: the key is shown once, only its hash is stored, revoking stops it at once."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from inventory.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-1234")
    client.force_login(admin)
    return client


def test_create_use_and_revoke_a_token_from_admin(staff_client, acme):
    answer = staff_client.post(
        "/admin/inventory/apitoken/add/", {"retailer": acme.retailer.pk, "name": "replenishment"}, follow=True
    )
    assert answer.status_code == 200
    shown = " ".join(str(m) for m in get_messages(answer.wsgi_request)) or answer.content.decode()
    key = re.search(r"will not be shown again: (\S+)", shown).group(1)
    token = ApiToken.objects.get(name="replenishment")
    assert token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash

    api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/stores/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    change = staff_client.get(f"/admin/inventory/apitoken/{token.pk}/change/").content.decode()
    assert key not in change and token.key_hash not in change
    assert 'name="retailer"' not in change, "an issued token cannot be moved to another retailer"

    staff_client.post(
        "/admin/inventory/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}, follow=True
    )
    assert api.get("/api/v1/stores/").status_code == 401
