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


NS_API = "https://1234567-sb1.suitetalk.netsuite.example.test"


def netsuite_connection(retailer):
    from integrations.models import Connection

    return Connection.objects.create(retailer=retailer, provider="netsuite", external_account_id="1234567_SB1",
                                     display_name="1234567_SB1", access_token="ns-access-secret",
                                     status=Connection.Status.ACTIVE)


def test_netsuite_company_name_is_the_root_subsidiary_name(retailer, settings):
    settings.NETSUITE_API_URL_TEMPLATE = "https://{account_host}.suitetalk.netsuite.example.test"
    connection = netsuite_connection(retailer)
    with responses.RequestsMock() as rsps:
        call = rsps.post(f"{NS_API}/services/rest/query/v1/suiteql", json={
            "links": [], "count": 1, "hasMore": False, "offset": 0, "totalResults": 1,
            "items": [{"links": [], "id": "1", "name": "Wolfe Electronics"}]})
        fetch_account_name(connection, get_provider("netsuite").oauth())
        sent = call.calls[0].request
    connection.refresh_from_db()
    assert connection.display_name == "Wolfe Electronics"
    assert b"FROM subsidiary WHERE parent IS NULL" in sent.body and sent.headers["Prefer"] == "transient"


def test_netsuite_without_access_to_subsidiaries_keeps_the_account_id(retailer, settings):
    settings.NETSUITE_API_URL_TEMPLATE = "https://{account_host}.suitetalk.netsuite.example.test"
    connection = netsuite_connection(retailer)
    with responses.RequestsMock() as rsps:
        rsps.post(f"{NS_API}/services/rest/query/v1/suiteql", status=400, json={
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "title": "Bad Request",
            "status": 400, "o:errorDetails": [{"detail": "Invalid search query. Your role lacks permission.",
                                               "o:errorCode": "INVALID_PARAMETER"}]})
        fetch_account_name(connection, get_provider("netsuite").oauth())
    connection.refresh_from_db()
    assert connection.display_name == "1234567_SB1" and connection.is_active
