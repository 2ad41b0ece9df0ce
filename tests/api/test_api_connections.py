"""Connection status for API clients: per stream the schedule, the latest run and the last success."""

import pytest

from integrations.models import Connection

from .conftest import T0

pytestmark = pytest.mark.django_db


def test_connection_status_per_stream(acme, acme_client):
    Connection.objects.filter(pk=acme.connection.pk).update(
        status=Connection.Status.NEEDS_RECONNECT, problem="Square access was revoked: reconnect."
    )
    body = acme_client.get(f"/api/v1/connections/{acme.connection.pk}/").json()
    assert body["provider"] == "square" and body["provider_name"] == "Square"
    assert body["status"] == "needs_reconnect" and body["problem"] == "Square access was revoked: reconnect."
    streams = {s["stream"]: s for s in body["streams"]}
    assert set(streams) == {"locations", "catalog", "inventory", "orders"}
    orders = streams["orders"]
    assert orders["last_run_status"] == "failed"
    assert orders["last_error"] == "provider unavailable: 503 after 5 attempts"
    assert orders["last_success_at"] == T0.isoformat().replace("+00:00", "Z")
    assert orders["enabled"] is True and orders["interval_seconds"] == 900
    assert streams["catalog"]["last_run_status"] == "succeeded" and streams["catalog"]["last_error"] == ""
