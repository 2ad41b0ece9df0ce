"""Staff see the health in admin: the Connections list (column and filter), the connection page, and can resume
paused streams with an action."""

import pytest
from django.utils import timezone

from integrations.health import refresh_health
from integrations.models import SyncRun, SyncSchedule

pytestmark = pytest.mark.django_db


def test_connection_list_and_page_show_health_and_the_filter_works(admin_client, connection):
    SyncRun.objects.create(connection=connection, stream="orders", status="failed", trigger="schedule",
                           error="ProviderUnavailable: HTTP 503", finished_at=timezone.now())
    refresh_health(connection.pk)
    listing = admin_client.get("/admin/integrations/connection/?health_state__exact=failing").content.decode()
    assert 'class="health-failing">Failing<' in listing and "Orders: the last sync failed" in listing
    assert "Acme Coffee" in listing or "MERCHANT-1" in listing
    none = admin_client.get("/admin/integrations/connection/?health_state__exact=healthy").content.decode()
    assert "MERCHANT-1" not in none
    page = admin_client.get(f"/admin/integrations/connection/{connection.pk}/change/").content.decode()
    assert "Failing" in page and "the provider is unavailable" in page


def test_admin_resume_action(admin_client, connection):
    SyncSchedule.objects.filter(connection=connection, stream="orders").update(
        paused_at=timezone.now(), paused_reason="Paused after 5 failed syncs")
    response = admin_client.post("/admin/integrations/connection/", {
        "action": "resume_paused", "_selected_action": [connection.pk]}, follow=True)
    assert "resumed orders" in response.content.decode()
    assert not SyncSchedule.objects.filter(paused_at__isnull=False).exists()
    assert SyncRun.objects.filter(connection=connection, stream="orders", trigger="manual").exists()


def test_a_successful_test_connection_in_admin_resumes_paused_streams(admin_client, connection, settings):
    import responses

    settings.SQUARE_BASE_URL = "https://square.example.test"
    SyncSchedule.objects.filter(connection=connection, stream="orders").update(
        paused_at=timezone.now(), paused_reason="Paused after 5 failed syncs")
    with responses.RequestsMock() as rsps:
        rsps.get("https://square.example.test/v2/locations", json={"locations": []})
        page = admin_client.post("/admin/integrations/connection/", {
            "action": "test_connection", "_selected_action": [connection.pk]}, follow=True).content.decode()
    assert "Resumed paused streams: orders" in page
    assert not SyncSchedule.objects.filter(paused_at__isnull=False).exists()
