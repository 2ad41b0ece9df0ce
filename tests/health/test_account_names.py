"""Readable account names fetched at connect (Square business name, Shopify shop name); a failure keeps the id."""

import pytest
import responses

from integrations.oauth.connect import fetch_account_name
from integrations.providers import get_provider

pytestmark = pytest.mark.django_db
BASE = "https://square.example.test"


def test_square_business_name_replaces_the_merchant_id(connection, settings):
    settings.SQUARE_BASE_URL = BASE
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/v2/locations", json={"locations": [
            {"id": "L1", "name": "Mission St", "business_name": "Blue Door Coffee"}]})
        fetch_account_name(connection, get_provider("square").oauth())
    connection.refresh_from_db()
    assert connection.display_name == "Blue Door Coffee"


def test_a_failed_name_lookup_keeps_the_connection_and_its_name(connection, settings):
    settings.SQUARE_BASE_URL = BASE
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/v2/locations", status=500, json={})
        fetch_account_name(connection, get_provider("square").oauth())
    connection.refresh_from_db()
    assert connection.display_name == "Acme Coffee" and connection.is_active
