"""The four pagination styles providers use, as streaming generators: one page is fetched, yielded, and only
then is the next one requested, so a sync can save its cursor after every page and never holds a whole
collection in memory. Each ``Page.cursor`` is what resumes *after* that page (None on the last page); pass it back
as ``cursor=`` to continue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import ProviderError


@dataclass
class Page:
    items: list
    cursor: Any = None  # resumes after this page; None when this was the last page
    raw: dict = field(default_factory=dict, repr=False)  # the page's whole answer (counts, related objects)


def _dig(data, path: str):
    for key in [p for p in path.split(".") if p]:
        data = (data or {}).get(key) if isinstance(data, dict) else None
    return data


class PaginationMixin:
    def paginate_cursor(self, path: str, body: dict | None = None, items_key: str = "", *, method: str = "POST",
                        cursor: str | None = None) -> Iterator[Page]:
        """Square: an opaque ``cursor`` in the answer, sent back in the body (search endpoints, POST) or the
        query string (list endpoints, ``method="GET"``). Square wants the original query resent with it."""
        while True:
            extra = {"cursor": cursor} if cursor else {}
            if method.upper() == "GET":
                response = self.get(path, params={**(body or {}), **extra})
            else:
                response = self.post(path, json={**(body or {}), **extra})
            data = response.json() or {}
            cursor = data.get("cursor") or None
            yield Page(items=_dig(data, items_key) or [], cursor=cursor, raw=data)
            if cursor is None:
                return

    def paginate_link(self, path: str, params: dict | None = None, items_key: str = "", *,
                      cursor: str | None = None) -> Iterator[Page]:
        """Shopify REST: follow ``Link: <...page_info=...>; rel="next"``. When following, Shopify accepts only
        ``page_info``, ``limit`` and ``fields``, so the next URL is used exactly as given."""
        url, query = (cursor, None) if cursor else (path, params)
        while True:
            response = self.get(url, params=query)
            data = response.json() or {}
            next_url = (response.links.get("next") or {}).get("url")
            yield Page(items=_dig(data, items_key) or [], cursor=next_url, raw=data)
            if not next_url:
                return
            url, query = next_url, None

    def paginate_graphql(self, query: str, variables: dict | None = None, path: str = "", *,
                         cursor: str | None = None, cursor_variable: str = "after") -> Iterator[Page]:
        """GraphQL Relay connections: ``path`` is the dotted path to the connection in ``data`` (e.g.
        ``"productVariants"`` or ``"inventoryItem.inventoryLevels"``); items are ``nodes`` or ``edges[].node``;
        the next page is requested with ``$after = pageInfo.endCursor`` while ``hasNextPage``."""
        while True:
            data = self.graphql(query, {**(variables or {}), cursor_variable: cursor})
            connection = _dig(data, path)
            if not isinstance(connection, dict):
                raise ProviderError(f"GraphQL answer has no connection at {path!r}", provider=self.provider.key)
            if "nodes" in connection:
                items = connection.get("nodes") or []
            else:
                items = [edge.get("node") for edge in connection.get("edges") or []]
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor") if info.get("hasNextPage") else None
            yield Page(items=items, cursor=cursor, raw=data)
            if cursor is None:
                return

    def paginate_offset(self, path: str, body: dict | None = None, limit: int = 1000, *, items_key: str = "items",
                        cursor: int | None = None) -> Iterator[Page]:
        """NetSuite: ``limit``/``offset`` query parameters, ``hasMore`` in the answer. With a ``body`` (SuiteQL
        ``{"q": ...}``) it POSTs with ``Prefer: transient``; without one it GETs a record collection."""
        offset = int(cursor or 0)
        parts = urlsplit(path)
        base_params = dict(parse_qsl(parts.query))
        path = parts.path
        while True:
            params = {**base_params, "limit": limit, "offset": offset}
            if body is not None:
                response = self.post(path, json=body, params=params, headers={"Prefer": "transient"})
            else:
                response = self.get(path, params=params)
            data = response.json() or {}
            items = data.get(items_key) or []
            more = bool(data.get("hasMore"))
            offset = offset + int(data.get("count", len(items)) or 0)
            yield Page(items=items, cursor=offset if more else None, raw=data)
            if not more or not items:
                return
