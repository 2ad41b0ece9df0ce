"""``GET /metrics`` after a real connect, sync and webhooks: the series a team alerts on, with the right values.
The collector reads the database and Redis at scrape time, so any gunicorn worker answers for every process."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from integrations.models import ApiCallLog, SyncRun, WebhookEvent

from .flows import connect_square, inventory_counts, square_webhook, sync_every_stream

pytestmark = pytest.mark.e2e


def scrape(client, **headers) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def test_metrics_after_a_sync_and_webhooks(portal):
    connection, _ = connect_square(portal)
    runs = sync_every_stream(connection)
    processed = square_webhook(portal, connection, "inventory.count.updated", inventory_counts("5"),
                               "inventory_counts")
    assert processed.status == "processed", processed.error
    square_webhook(portal, connection, "inventory.count.updated", inventory_counts("6"), "inventory_counts")
    unknown = square_webhook(portal, connection, "team_member.created", {"team_member": {}}, "team_member")

    samples = scrape(Client())
    for stream, run in runs.items():
        assert value(samples, "shelfops_sync_runs", provider="square", stream=stream, status="succeeded") == 1
        assert value(samples, "shelfops_sync_records_total", provider="square", stream=stream,
                     outcome="created") == run.records_created
    assert sum(r.records_created for r in runs.values()) > 0
    assert value(samples, "shelfops_webhook_events", provider="square", topic="inventory.count.updated",
                 status="processed") == 2
    assert value(samples, "shelfops_webhook_events", provider="square", topic="team_member.created",
                 status=unknown.status) == 1
    assert value(samples, "shelfops_webhook_processing_lag_seconds", provider="square") >= 0
    calls = ApiCallLog.objects.filter(provider="square", status_code=200).count()
    assert calls > 0
    assert value(samples, "shelfops_provider_calls_total", provider="square", status="200") == calls
    assert value(samples, "shelfops_provider_call_duration_seconds_count", provider="square") == \
        ApiCallLog.objects.filter(provider="square").count()
    assert value(samples, "shelfops_connections", provider="square", health="healthy") == 1
    assert value(samples, "shelfops_circuit_breaker_state", provider="square", connection=str(connection.pk)) == 0
    assert value(samples, "shelfops_token_refresh_failures", provider="square") == 0
    assert ("shelfops_queue_depth", frozenset({("queue", "webhooks")})) in samples
    assert SyncRun.objects.count() == len(runs) and WebhookEvent.objects.count() == 3


def test_production_mode_needs_the_bearer_token(settings, db):
    settings.SHELFOPS_ENV = "production"
    settings.METRICS_TOKEN = "metrics-token-123"
    client = Client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-123").status_code == 200
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401  # no token configured: closed


def test_locally_metrics_are_open(settings, db):
    settings.SHELFOPS_ENV = "local"
    assert Client().get("/metrics").status_code == 200


def test_queue_depth_on_the_file_system_broker(settings, db, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    for i in range(3):  # kombu's file name: "<ms>_<uuid>.<queue>.msg"
        (tmp_path / f"17000{i}_abc{i}.webhooks.msg").write_text("{}")
    (tmp_path / "170009_abc.syncs.msg").write_text("{}")
    samples = scrape(Client())
    assert value(samples, "shelfops_queue_depth", queue="webhooks") == 3
    assert value(samples, "shelfops_queue_depth", queue="syncs") == 1
    assert value(samples, "shelfops_queue_depth", queue="maintenance") == 0
