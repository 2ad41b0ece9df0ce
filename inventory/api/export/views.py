"""``GET /api/v1/<resource>/export/``: the whole filtered resource in one streamed response.

- Format: ``?format=ndjson`` (default) or ``?format=csv``, or ``Accept: text/csv``.
- Same tenant scoping, filters, field names and value formats as the paged list; rows in no particular order.
- Consistent cut: only rows changed before the changes-feed horizon taken at the start (see ``horizon.py``) are
  exported, and the response names the changes-feed position just after them (``Link: <...>; rel="next"``, and a
  last NDJSON line ``{"resume": {"next": ..., "rows": N}}``). Polling that URL returns exactly the rows changed
  since, so switching from the export to the feed misses nothing and repeats nothing.
- One export per API token at a time (a second one gets 429 with ``Retry-After``): an export holds a web worker
  for its whole length, so one token cannot take them all.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from ..horizon import changes_horizon
from ..pagination import CHANGES_FIELD, KeysetPagination, encode_position
from .columns import CSV, JSON
from .stream import copy_chunks, copy_sql, python_chunks

SLOT_SECONDS = 60  # an export's slot lives this long past its last written chunk (a killed worker frees it)
SLOT_REFRESH_SECONDS = 10
BUSY_RETRY_AFTER_SECONDS = 5


class NDJSONRenderer(BaseRenderer):
    media_type = "application/x-ndjson"
    format = JSON
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # only errors are rendered here
        return JSONRenderer().render(data)


class CSVRenderer(NDJSONRenderer):
    media_type = "text/csv"
    format = CSV


EXPORT_RENDERERS = {renderer.format: renderer for renderer in (NDJSONRenderer, CSVRenderer)}


class ExportNegotiation(BaseContentNegotiation):
    """``?format=`` wins, else ``Accept: text/csv``, else NDJSON. An unknown ``format`` is a 400 naming it (DRF's
    default would answer 404, and an Accept it cannot meet 406)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = request.query_params.get("format")
        if wanted is None:
            accept = request.META.get("HTTP_ACCEPT", "")
            wanted = CSV if "text/csv" in accept and NDJSONRenderer.media_type not in accept else JSON
        if wanted not in EXPORT_RENDERERS:
            raise exceptions.ValidationError({"format": [f"Unknown format {wanted!r}; use ndjson or csv."]})
        renderer = EXPORT_RENDERERS[wanted]()
        return renderer, renderer.media_type


class ExportSlot:
    """One running export per token, in the shared cache (Redis in production)."""

    def __init__(self, token):
        self.key = f"api-export-slot:{token.key_hash[:32]}"
        self.refreshed = 0.0

    def acquire(self) -> None:
        if not cache.add(self.key, 1, timeout=SLOT_SECONDS):
            raise exceptions.Throttled(
                wait=BUSY_RETRY_AFTER_SECONDS,
                detail="An export with this token is already running; one export per token at a time.",
            )
        self.refreshed = time.monotonic()

    def keep(self) -> None:
        now = time.monotonic()
        if now - self.refreshed >= SLOT_REFRESH_SECONDS:
            cache.touch(self.key, SLOT_SECONDS)
            self.refreshed = now

    def release(self) -> None:
        cache.delete(self.key)


def export_schema(resource: str):
    """The OpenAPI description of a viewset's export action (``extend_schema_view(export=export_schema(...))``)."""
    return extend_schema(
        summary=f"Export all {resource}",
        description=(
            "Every row the list would page through for the same filters, streamed in one response: NDJSON (one "
            "JSON object per line, the list's field names and formats, then a last line "
            "`{\"resume\": {\"next\": <url>, \"rows\": <n>}}`) or CSV (a header row; empty = null). "
            "The `Link: <url>; rel=\"next\"` header (and the NDJSON resume line) is the changes feed "
            "(`ordering=updated_at`) positioned right after the exported rows: poll it to follow changes "
            "without a gap or a duplicate. One export per token at a time (429 with `Retry-After` otherwise)."
        ),
        filters=True,
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=[JSON, CSV],
                                     description="ndjson (default) or csv; `Accept: text/csv` also selects CSV.")],
        responses={
            (200, NDJSONRenderer.media_type): OpenApiResponse(OpenApiTypes.STR, description="NDJSON rows."),
            (200, CSVRenderer.media_type): OpenApiResponse(OpenApiTypes.STR, description="CSV rows."),
        },
    )


# Adds the ``export`` action to a retailer-scoped list viewset (uses its filterset and serializer). A comment, not
# a docstring: drf-spectacular would take a docstring as every operation's description.
class ExportMixin:
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None,
            renderer_classes=[NDJSONRenderer, CSVRenderer], content_negotiation_class=ExportNegotiation)
    def export(self, request, *args, **kwargs):
        fmt = request.accepted_renderer.format
        horizon = changes_horizon()
        # In no particular order: a sort (or an index walk) would cost the database more than the whole read.
        queryset = self.filter_queryset(self.get_queryset()).filter(**{f"{CHANGES_FIELD}__lt": horizon})
        queryset = queryset.order_by()
        self.check_filter_ids()  # before the stream starts: afterwards there is no status code left to answer
        serializer = self.get_serializer_class()(context=self.get_serializer_context())
        resume = self._resume_url(request, horizon)
        slot = ExportSlot(request.auth)
        slot.acquire()
        try:
            body = self._body(queryset, serializer, fmt, resume, slot)
        except BaseException:
            slot.release()
            raise
        response = StreamingHttpResponse(body, content_type=f"{request.accepted_renderer.media_type}; charset=utf-8")
        response["Link"] = f'<{resume}>; rel="next"'
        response["Cache-Control"] = "no-store"
        return response

    def _body(self, queryset, serializer, fmt, resume, slot):
        statement = copy_sql(queryset, serializer, fmt) if _supports_copy() else None
        counter = [0]
        if statement is not None:
            chunks = copy_chunks(*statement, counter=counter, on_chunk=slot.keep)
        else:
            chunks = python_chunks(queryset, serializer, fmt, counter=counter, on_chunk=slot.keep)

        def body():
            try:
                yield from chunks
                if fmt == JSON:
                    yield JSONRenderer().render({"resume": {"next": resume, "rows": counter[0]}}) + b"\n"
            finally:
                chunks.close()  # on a disconnect: cancels the COPY before the slot is given back
                slot.release()

        return body()

    def _resume_url(self, request, horizon) -> str:
        params = [(k, v) for k, v in request.query_params.items() if k != "format"]
        params += [(KeysetPagination.ordering_query_param, CHANGES_FIELD),
                   (KeysetPagination.cursor_query_param, encode_position(CHANGES_FIELD, False, horizon, 0))]
        path = reverse(f"api:{self.basename}-list")
        return request.build_absolute_uri(f"{path}?{urlencode(params)}")

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors of an export (bad filter, busy slot) are JSON in the API's error shape, not NDJSON/CSV.
        if getattr(self, "action", None) == "export" and isinstance(response, Response):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def _supports_copy() -> bool:
    return connection.vendor == "postgresql"
