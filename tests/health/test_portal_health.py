"""The portal shows health: list, connection page, a banner on every portal page, the JSON the page polls,
a rate-limited "Sync now" and "Resume"; another retailer's connection is a 404 everywhere."""

import pytest
from django.utils import timezone

from integrations.health import refresh_health
from integrations.models import SyncRun, SyncSchedule

from .test_health_model import all_fresh, finished_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, merchant_user):
    client.force_login(merchant_user)
    return client


def test_failing_connection_shows_in_list_page_and_banner(client_in, connection):
    all_fresh(connection)
    finished_run(connection, "orders", "failed", error="ProviderUnavailable: HTTP 503 after 5 attempts")
    refresh_health(connection.pk)
    index = client_in.get("/portal/").content.decode()
    assert 'class="health health-failing">Failing<' in index
    assert 'id="health-banner"' in index and "Orders: the last sync failed" in index
    page = client_in.get(f"/portal/connections/{connection.pk}/").content.decode()
    assert 'id="health-label">Failing<' in page and "the provider is unavailable" in page
    assert "connection_live.js" in page and "status.json" in page


def test_status_json_has_health_and_per_stream_progress(client_in, connection):
    SyncRun.objects.create(connection=connection, stream="orders", status="running", trigger="connect",
                           pages=3, records_seen=300, records_created=250, started_at=timezone.now())
    body = client_in.get(f"/portal/connections/{connection.pk}/status.json").json()
    assert body["syncing"] is True
    orders = next(s for s in body["streams"] if s["stream"] == "orders")
    assert (orders["state"], orders["active"], orders["pages"], orders["records_created"]) == (
        "running", True, 3, 250)
    assert body["health"]["state"] in ("healthy", "degraded")


def test_another_retailers_connection_is_a_404(client, other_merchant_user, connection):
    client.force_login(other_merchant_user)
    for url in (f"/portal/connections/{connection.pk}/status.json",):
        assert client.get(url).status_code == 404
    for url in (f"/portal/connections/{connection.pk}/sync/", f"/portal/connections/{connection.pk}/resume/"):
        assert client.post(url).status_code == 404


def test_sync_now_queues_every_stream_once_per_minute(client_in, connection, django_capture_on_commit_callbacks):
    from unittest import mock

    with mock.patch("integrations.sync.services.enqueue") as enqueue:
        with django_capture_on_commit_callbacks(execute=True):
            client_in.post(f"/portal/connections/{connection.pk}/sync/")
        assert SyncRun.objects.filter(trigger="manual").count() == 4 and enqueue.call_count == 4
        SyncRun.objects.update(status="succeeded")
        page = client_in.post(f"/portal/connections/{connection.pk}/sync/", follow=True).content.decode()
    assert "less than 60 seconds ago" in page
    assert SyncRun.objects.filter(trigger="manual").count() == 4


def test_resume_unpauses_and_the_banner_clears(client_in, connection):
    all_fresh(connection)
    SyncSchedule.objects.filter(connection=connection, stream="orders").update(
        paused_at=timezone.now(), paused_reason="Paused after 5 failed syncs in a row")
    refresh_health(connection.pk)
    page = client_in.get(f"/portal/connections/{connection.pk}/").content.decode()
    assert "Paused after 5 failed syncs" in page and 'id="resume"' in page
    client_in.post(f"/portal/connections/{connection.pk}/resume/")
    assert not SyncSchedule.objects.filter(paused_at__isnull=False).exists()
    assert 'id="health-banner"' not in client_in.get("/portal/").content.decode()


def test_disconnect_buttons_ask_for_confirmation(client_in, connection):
    for url in ("/portal/", f"/portal/connections/{connection.pk}/"):
        assert "return confirm('Disconnect" in client_in.get(url).content.decode()
