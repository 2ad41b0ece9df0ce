"""The operations a staff console must see: a real OAuth connect against the sandbox (the consent page's "Allow"
posted like a browser would), a sync of every stream in-process, and signed webhooks through the real receive
view, processed by the real worker function."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from urllib.parse import parse_qsl, urlsplit

import requests
from django.conf import settings
from django.test import Client

from integrations.models import Connection, SyncRun, WebhookEvent
from integrations.models.sync import ACTIVE_RUN_STATES
from integrations.sync import engine, services
from integrations.webhooks.processing import process_event


def connect_square(client: Client) -> tuple[Connection, dict]:
    """Returns the connection and the OAuth query values (code, state) that travelled through the browser."""
    authorize = client.get("/integrations/square/connect/")["Location"]
    parts = urlsplit(authorize)
    consent = requests.post(f"{parts.scheme}://{parts.netloc}{parts.path}",
                            data={**dict(parse_qsl(parts.query)), "decision": "allow"}, allow_redirects=False,
                            timeout=10)
    callback = urlsplit(consent.headers["Location"])
    query = dict(parse_qsl(callback.query))
    done = client.get(callback.path, query)
    assert done.status_code == 302, done.content[:500]
    return Connection.objects.get(provider="square"), {"code": query["code"], "state": query["state"]}


def sync_every_stream(connection: Connection) -> dict:
    runs = {}
    for stream in services.stream_names(connection):
        # Connecting queued each stream's initial run already (no worker here): run that one in-process.
        run = services.create_run(connection, stream, trigger="manual") or SyncRun.objects.get(
            connection=connection, stream=stream, status__in=ACTIVE_RUN_STATES)
        runs[stream] = engine.execute(run.pk)
        assert runs[stream].status == "succeeded", runs[stream].error
    return runs


def square_webhook(client: Client, connection: Connection, topic: str, obj: dict, data_type: str) -> WebhookEvent:
    body = json.dumps({
        "merchant_id": connection.external_account_id, "type": topic, "event_id": str(uuid.uuid4()),
        "created_at": "2026-09-01T10:00:00Z", "data": {"type": data_type, "id": str(uuid.uuid4()), "object": obj},
    }).encode()
    url = settings.SQUARE_WEBHOOK_NOTIFICATION_URL or f"{settings.BASE_URL}/webhooks/square/"
    key = settings.SQUARE_WEBHOOK_SIGNATURE_KEY
    signature = base64.b64encode(hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()).decode()
    response = client.post("/webhooks/square/", data=body, content_type="application/json",
                           HTTP_X_SQUARE_HMACSHA256_SIGNATURE=signature)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(provider="square", event_id=response.json()["event_id"])
    process_event(event.pk)
    event.refresh_from_db()
    return event


def inventory_counts(quantity: str) -> dict:
    return {"inventory_counts": [
        {"catalog_object_id": "CONSOLE-VAR", "catalog_object_type": "ITEM_VARIATION", "state": "IN_STOCK",
         "location_id": "CONSOLE-LOC", "quantity": quantity, "calculated_at": "2026-09-01T10:00:00Z"},
    ]}
