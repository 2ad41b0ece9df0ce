"""``POST /webhooks/<provider>/``: verify over the raw bytes, store, enqueue, answer 2xx fast.

Answers: 200 stored (or duplicate, unmatched, ignored, or failed on malformed JSON: the provider would retry a
broken body for days otherwise); 401 missing or invalid signature (counted, nothing stored); 413 body over
WEBHOOK_MAX_BODY_BYTES; 400 unreadable Content-Length, or a verified body that can never be stored (JSON nested
deeper than WEBHOOK_MAX_JSON_DEPTH, NUL characters, lone surrogates: counted as rejections, nothing stored);
503 when the event could not be stored (the provider retries).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .base import receiver_for
from .inbox import RefusedDelivery, record_rejection, store_delivery

log = logging.getLogger(__name__)


def _refuse(receiver, request, status: int, reason: str, detail: str, raw_body: bytes = b"") -> JsonResponse:
    try:
        record_rejection(
            receiver.provider_key, reason, headers=receiver.storable_headers(request.headers),
            raw_body=raw_body, remote_addr=request.META.get("REMOTE_ADDR", ""),
        )
    except DatabaseError:  # counting is best effort; the answer to the sender must not change
        log.warning("could not record a %s webhook rejection (%s)", receiver.provider_key, reason)
    return JsonResponse({"error": reason, "detail": detail}, status=status)


@csrf_exempt
@require_POST
def receive_webhook(request, provider_key: str, subscription: str | None = None):
    receiver = receiver_for(provider_key)
    if receiver is None:
        return JsonResponse({"error": "unknown_provider", "detail": f"no webhooks for {provider_key!r}"}, status=404)
    if subscription is not None and not receiver.subscription_segments:
        return JsonResponse({"error": "unknown_url", "detail": f"{provider_key} webhooks take no subscription "
                             "segment"}, status=404)

    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return JsonResponse({"error": "bad_content_length", "detail": "Content-Length is not a number"}, status=400)
    if declared > limit:  # refuse before reading a byte of it
        return _refuse(receiver, request, 413, "body_too_large", f"body over {limit} bytes")
    try:
        raw_body = request.body
    except RequestDataTooBig:
        return _refuse(receiver, request, 413, "body_too_large", f"body over {limit} bytes")
    if len(raw_body) > limit:
        return _refuse(receiver, request, 413, "body_too_large", f"body over {limit} bytes")

    if not receiver.given_signature(request.headers):
        return _refuse(
            receiver, request, 401, "missing_signature", f"header {receiver.signature_header} is required", raw_body
        )
    extra = {"subscription": subscription} if subscription is not None else {}  # PLUGIN-GLUE (contract item 2)
    if not receiver.verify(raw_body, request.headers, **extra):
        return _refuse(receiver, request, 401, "invalid_signature", "signature does not match", raw_body)

    try:
        stored = store_delivery(receiver, raw_body, request.headers, subscription)
    except RefusedDelivery as refused:
        # Hostile or unstorable (too deeply nested, NUL, lone surrogate): a permanent 400, counted, never stored,
        # so the provider is told it is not worth retrying and no worker retries it as if it were transient.
        return _refuse(receiver, request, 400, refused.reason, refused.detail, raw_body)
    except DatabaseError as exc:
        log.error("could not store a %s webhook: %s", provider_key, type(exc).__name__)
        return JsonResponse({"error": "unavailable", "detail": "could not store the event, retry later"}, status=503)
    return JsonResponse({"status": stored.status, "event_id": stored.event_id})
