"""Keyset ("cursor") pagination over an indexed ordering.

A page is ``WHERE (key, id) > (last key, last id) ORDER BY key, id LIMIT n``: the database walks the index from
the cursor, so page 10,000 costs what page 1 costs, and rows inserted meanwhile never shift or repeat a page
(unlike offsets). The cursor is opaque to clients (base64 JSON of ordering, key and id).

Response: ``{"next": url | null, "has_more": bool, "results": [...]}``. For ``ordering=updated_at`` (the changes
feed) ``next`` is always given once a page had rows: it is the resume point to poll later; ``has_more`` says
whether to fetch it right away. Rows of transactions that may still commit are held back (see horizon.py).
"""

import base64
import binascii
import json
from datetime import UTC, datetime

import orjson
from django.db.models import Q
from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .export.columns import IsoUtc
from .horizon import changes_horizon

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
CHANGES_FIELD = "updated_at"


def encode_position(field: str, descending: bool, value, pk: int) -> str:
    """The opaque cursor of the position just after the row (``value``, ``pk``) in this ordering."""
    payload = {
        "o": ("-" if descending else "") + field,
        "v": value.isoformat() if isinstance(value, datetime) else value,
        "i": pk,
    }
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


class KeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    ordering_query_param = "ordering"

    def __init__(self):
        self.next_cursor = None
        self.has_more = False
        self.base_url = None
        self.rendered = False

    # --- request parsing -------------------------------------------------------------------------------------
    def _ordering(self, request, view):
        allowed = view.ordering_fields
        raw = request.query_params.get(self.ordering_query_param)
        if raw is None:
            raw = view.default_ordering(request) if callable(view.default_ordering) else view.default_ordering
        name = raw.lstrip("-")
        if name not in allowed:
            choices = ", ".join(f"{f}, -{f}" for f in allowed)
            raise ValidationError({self.ordering_query_param: [f"Unknown ordering {raw!r}; use one of: {choices}."]})
        return name, raw.startswith("-")

    def _page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError(
                {self.page_size_query_param: [f"Must be a whole number from 1 to {MAX_PAGE_SIZE}."]}
            )
        return size

    def _decode(self, request, field, descending):
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        invalid = ValidationError({self.cursor_query_param: ["Invalid cursor: use the `next` link as given."]})
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
            ordering, value, last_id = data["o"], data["v"], int(data["i"])
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
            raise invalid
        if not 0 <= last_id < 2**63:  # beyond a bigint the database would fail, not answer
            raise invalid
        if ordering != ("-" if descending else "") + field:
            raise ValidationError({self.cursor_query_param: ["This cursor belongs to another ordering."]})
        if field != "id":
            try:
                value = parse_datetime(value).astimezone(UTC)
            except (TypeError, AttributeError, ValueError, OverflowError):
                raise invalid
        return value, last_id

    # --- paging ----------------------------------------------------------------------------------------------
    def paginate_queryset(self, queryset, request, view=None):
        field, descending = self._ordering(request, view)
        size = self._page_size(request)
        position = self._decode(request, field, descending)
        self.base_url = request.build_absolute_uri()
        sign = "-" if descending else ""
        queryset = queryset.order_by(f"{sign}{field}", f"{sign}id") if field != "id" else queryset.order_by(
            f"{sign}id"
        )
        follows_changes = field == CHANGES_FIELD and not descending
        if follows_changes:
            queryset = queryset.filter(**{f"{field}__lt": changes_horizon()})
        if position is not None:
            value, last_id = position
            after = "lt" if descending else "gt"
            if field == "id":
                queryset = queryset.filter(**{f"id__{after}": last_id})
            else:
                # The redundant bound (key >= v) lets the database start the index range at the cursor; the OR
                # only filters the few rows that share the cursor's key.
                bound = "lte" if descending else "gte"
                queryset = queryset.filter(**{f"{field}__{bound}": value}).filter(
                    Q(**{f"{field}__{after}": value}) | Q(**{field: value, f"id__{after}": last_id})
                )
        rendered = view.rendered_rows() if hasattr(view, "rendered_rows") else None
        if rendered is not None:
            # (JSON text, key, id) per row, rendered by the database (see export/columns.py): the page is spliced
            # from them without model instances or a serializer. A time key comes as ISO 8601 text (formatted by
            # the database, whatever its DateStyle), and only the last row's is parsed, for the cursor: loading
            # every row's key as a datetime cost more than the rest of the row.
            key = field if field == "id" else IsoUtc(field)
            rows = list(queryset.values_list(rendered, key, "id")[: size + 1])
            last = lambda page: (page[-1][1] if field == "id" else datetime.fromisoformat(page[-1][1]),  # noqa: E731
                                 page[-1][2])
            self.rendered = True
        else:
            rows = list(queryset[: size + 1])
            last = lambda page: (getattr(page[-1], field), page[-1].pk)  # noqa: E731
        self.has_more = len(rows) > size
        rows = rows[:size]
        if rows and (self.has_more or follows_changes):
            self.next_cursor = encode_position(field, descending, *last(rows))
        elif follows_changes and position is not None:
            self.next_cursor = request.query_params.get(self.cursor_query_param)  # nothing new yet: poll again
        return rows

    def get_next_link(self):
        if self.next_cursor is None:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "has_more": self.has_more, "results": data})

    def get_rendered_response(self, rows):
        """The page from database-rendered rows: the rows' JSON text is spliced in as it is (orjson fragments)."""
        body = orjson.dumps({"next": self.get_next_link(), "has_more": self.has_more,
                             "results": [orjson.Fragment(row[0]) for row in rows]})
        return HttpResponse(body, content_type="application/json")

    # --- schema ----------------------------------------------------------------------------------------------
    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "has_more", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "example": "https://portal.example/api/v1/transactions/?cursor=eyJvIjoiaWQiLCJ2IjoxMDAsImkiOjEwMH0",
                    "description": "The next page; for ordering=updated_at also the resume point to poll later.",
                },
                "has_more": {
                    "type": "boolean",
                    "example": True,
                    "description": "Whether more rows are available right now.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        ordering_fields = getattr(view, "ordering_fields", ("id",))
        default = getattr(view.default_ordering, "fallback", view.default_ordering)
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Opaque position from the previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
            {
                "name": self.ordering_query_param,
                "in": "query",
                "required": False,
                "description": f"Sort key (indexed); `-` for descending. Default `{default}`. "
                "`updated_at` follows changes: with `updated_since` and the `next` cursor no change is missed.",
                "schema": {"type": "string", "enum": [p + f for f in ordering_fields for p in ("", "-")]},
            },
        ]
