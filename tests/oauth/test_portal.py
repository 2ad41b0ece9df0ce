"""Merchant portal: own connections only (another retailer's is a 404 for viewing and disconnecting), connect
buttons, and disconnect = revoke + delete tokens + disable schedules, keeping synced data."""

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncSchedule

from .conftest import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(retailer):
    connection = make_connection(retailer, account="MY-MERCHANT", expires_in=timedelta(days=20),
                                 display_name="My Square")
    SyncSchedule.objects.create(connection=connection, stream="orders", interval_seconds=3600,
                                next_run_at=timezone.now())
    return connection


@pytest.fixture
def theirs(other_retailer):
    return make_connection(other_retailer, account="THEIR-MERCHANT", display_name="Their Square")


def test_index_lists_only_own_connections_and_connect_buttons(merchant_client, mine, theirs):
    page = merchant_client.get("/portal/").content.decode()
    assert "My Square" in page and "Their Square" not in page and "THEIR-MERCHANT" not in page
    for label in ("Connect Square", "Connect Shopify", "Connect NetSuite"):
        assert label in page
    assert 'name="shop"' in page and 'name="account"' in page
    assert "Valid until" in page


def test_portal_requires_login(client):
    assert client.get("/portal/").status_code == 302


def test_other_retailers_connection_is_404(merchant_client, theirs):
    assert merchant_client.get(f"/portal/connections/{theirs.pk}/").status_code == 404
    with responses.RequestsMock():  # no provider call may happen
        assert merchant_client.post(f"/portal/connections/{theirs.pk}/disconnect/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Connection.Status.ACTIVE and theirs.access_token


def test_detail_shows_status_schedules_and_no_secrets(merchant_client, mine):
    page = merchant_client.get(f"/portal/connections/{mine.pk}/").content.decode()
    assert "My Square" in page and "orders" in page and "Active" in page
    assert mine.access_token not in page and mine.refresh_token not in page


def test_disconnect_is_post_only(merchant_client, mine):
    assert merchant_client.get(f"/portal/connections/{mine.pk}/disconnect/").status_code == 405


@responses.activate
def test_disconnect_revokes_deletes_tokens_disables_schedules_keeps_data(merchant_client, mine, settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    revoke = responses.post("https://square.example.test/oauth2/revoke", json={"success": True})
    run = SyncRun.objects.create(connection=mine, stream="orders", status=SyncRun.Status.SUCCEEDED)
    response = merchant_client.post(f"/portal/connections/{mine.pk}/disconnect/")
    assert response.status_code == 302
    assert revoke.call_count == 1
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Client sq0csp-shelfops-local-secret"
    assert json.loads(request.body) == {"client_id": "sq0idp-shelfops-local", "access_token": "at-old-0001"}
    mine.refresh_from_db()
    assert mine.status == Connection.Status.DISCONNECTED and mine.disconnected_at
    assert mine.access_token is None and mine.refresh_token is None
    assert not SyncSchedule.objects.filter(connection=mine, enabled=True).exists()
    assert SyncRun.objects.filter(pk=run.pk).exists()
    page = merchant_client.get("/portal/").content.decode()
    assert "is disconnected" in page and "Disconnected" in page


@responses.activate
def test_disconnect_still_happens_when_the_provider_is_down(merchant_client, mine, settings, caplog):
    settings.HTTP_MAX_ATTEMPTS = 1
    responses.post("https://square.example.test/oauth2/revoke", status=503, json={})
    assert merchant_client.post(f"/portal/connections/{mine.pk}/disconnect/").status_code == 302
    mine.refresh_from_db()
    assert mine.status == Connection.Status.DISCONNECTED and mine.access_token is None
    assert any("revoking square connection" in r.getMessage() for r in caplog.records)


def test_webhook_uninstall_path_disconnects_without_revoking(mine):
    from integrations.oauth.disconnect import disconnect

    with responses.RequestsMock():  # revoke=False: no provider call
        disconnect(mine, reason="shopify app/uninstalled", revoke=False)
    mine.refresh_from_db()
    assert mine.status == Connection.Status.DISCONNECTED and mine.refresh_token is None
