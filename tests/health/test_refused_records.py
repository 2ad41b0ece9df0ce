"""A run never reports plain success after dropping a record: it counts what ingest refused, keeps the first few
with their errors, and ends "succeeded with errors"."""

import pytest
import responses

from integrations.models import SyncRun
from integrations.sync import engine, services

pytestmark = pytest.mark.django_db
BASE = "https://square.example.test"


def count(var_id, quantity):
    return {"catalog_object_id": var_id, "catalog_object_type": "ITEM_VARIATION", "state": "IN_STOCK",
            "location_id": "L00", "quantity": quantity, "calculated_at": "2026-10-07T00:00:00Z"}


def test_a_refused_record_is_counted_sampled_and_the_run_succeeds_with_errors(connection, settings):
    settings.SQUARE_BASE_URL = BASE
    page = {"counts": [count("V1", "4"), count("V2", "1e30"), count("V3", "2")]}
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", json=page)
        run = engine.execute(services.create_run(connection, "inventory", trigger="command").pk)
    assert run.status == SyncRun.Status.SUCCEEDED_WITH_ERRORS
    assert run.records_refused == 1
    (sample,) = run.refused_samples
    assert "V2" in sample and "out of range" in sample
    assert "1 record(s) refused" in run.error
    stored = SyncRun.objects.get(pk=run.pk)
    assert (stored.status, stored.records_refused) == ("succeeded_with_errors", 1)
    # The stream still moved forward: it counts as the last success, and health says what was refused.
    connection.refresh_from_db()
    assert connection.last_successful_sync_at == stored.finished_at
    assert connection.health_state == "degraded"
    assert any(r["code"] == "refused:inventory" for r in connection.health_reasons)


def test_the_api_shows_refused_records_on_the_run(connection, settings):
    from rest_framework.test import APIClient

    from inventory.models import ApiToken

    settings.SQUARE_BASE_URL = BASE
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", json={"counts": [count("V2", "1e30")]})
        run = engine.execute(services.create_run(connection, "inventory", trigger="command").pk)
    _token, key = ApiToken.issue(connection.retailer, name="forecasting")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = client.get(f"/api/v1/sync-runs/{run.pk}/").json()
    assert body["status"] == "succeeded_with_errors" and body["records_refused"] == 1
    health = client.get(f"/api/v1/connections/{connection.pk}/").json()["health"]
    assert health["state"] == "degraded" and health["reasons"][0]["code"] == "refused:inventory"
