"""The two comparison handlers bench/webhooks.py measures next to the real inbox, served by the same gunicorn.

- ``inline``: what the seed note does: verify, then process (write transactions/levels) before answering.
- ``ceiling``: the least any inbox can do: check the HMAC and insert the row, nothing else (no connection lookup,
  no broker). Rows are stored ``ignored`` so no sweep ever picks them up.
"""

import json

from django.db import IntegrityError, connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from integrations.models import WebhookEvent
from integrations.webhooks.base import receiver_for
from integrations.webhooks.inbox import resolve_connection_id
from integrations.webhooks.processing import process_event


@csrf_exempt
def inline(request, provider_key):
    receiver = receiver_for(provider_key)
    raw = request.body
    if not receiver.verify(raw, request.headers):
        return JsonResponse({"error": "invalid_signature"}, status=401)
    envelope = receiver.envelope(raw, json.loads(raw), request.headers)
    try:
        event = WebhookEvent.objects.create(
            provider=provider_key, event_id=envelope.event_id, topic=envelope.topic,
            external_account_id=envelope.account_id, body=raw, status=WebhookEvent.Status.QUEUED,
            connection_id=resolve_connection_id(provider_key, envelope.account_id),
        )
    except IntegrityError:
        return JsonResponse({"status": "duplicate"})
    return JsonResponse({"status": process_event(event.pk).status})


@csrf_exempt
def ceiling(request, provider_key):
    receiver = receiver_for(provider_key)
    raw = request.body
    if not receiver.verify(raw, request.headers):
        return JsonResponse({"error": "invalid_signature"}, status=401)
    envelope = receiver.envelope(raw, json.loads(raw), request.headers)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WebhookEvent._meta.db_table} (provider, event_id, topic, external_account_id, headers, body,"
            " received_at, status, attempts, error, traceback, outcome)"
            " VALUES (%s, %s, %s, %s, '{}', %s, now(), 'ignored', 0, '', '', '')"
            " ON CONFLICT (provider, event_id) DO NOTHING",
            [provider_key, envelope.event_id, envelope.topic, envelope.account_id, raw],
        )
    return JsonResponse({"status": "stored"})


urlpatterns = [
    path("bench/inline/<str:provider_key>/", inline),
    path("bench/ceiling/<str:provider_key>/", ceiling),
    path("", include("shelfops.urls")),
]
