"""Square streams (provider-facts 1.4). Every call goes through the resilient client (rate budget, retries,
call log); these classes only build requests, page and map."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings

from integrations.sync.reconcile import reconciliation_of
from integrations.sync.streams import Page, Stream, format_time, parse_time

from . import mappers

CATALOG_PAGE = 1000  # search "limit" is advisory, at most 1000
COUNTS_PAGE = 1000  # batch-retrieve counts: 1-1000
ORDERS_PAGE = 1000  # orders search: at most 1000
ORDER_LOCATIONS_PER_CALL = 10  # orders search takes at most 10 location ids


class SquareLocations(Stream):
    """``GET /v2/locations``: a handful of rows, read whole every time."""

    name = "locations"
    record_kind = "locations"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        body = self.client.get("/v2/locations").json()
        records = [mappers.map_location(obj) for obj in body.get("locations") or []]
        yield Page(records, self.watermark(None).final())


class SquareCatalog(Stream):
    """``POST /v2/catalog/search`` for ITEM + ITEM_VARIATION with ``begin_time`` (exclusive) as the delta key.
    Deleted objects are included on deltas so deletions propagate; the first load skips them (nothing to delete).
    Search results come in no documented order, so a run resumes from the page token, not from ``updated_at``."""

    name = "catalog"
    record_kind = "items"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(cursor)
        body = {"object_types": ["ITEM", "ITEM_VARIATION"], "include_related_objects": True, "limit": CATALOG_PAGE}
        if mark.since:
            body["begin_time"] = format_time(mark.since)
            body["include_deleted_objects"] = True
        token = mark.resume_page
        while True:
            answer = self.client.post("/v2/catalog/search", json={**body, **({"cursor": token} if token else {})})
            data = answer.json()
            records = mappers.map_catalog_objects(data.get("objects") or [], data.get("related_objects") or [])
            for record in records:
                mark.observe(record.updated_at)
            token = data.get("cursor")
            yield Page(records, mark.after_page(token) if token else mark.final())
            if not token:
                return


class SquareInventory(Stream):
    """``POST /v2/inventory/counts/batch-retrieve`` with ``updated_after`` (compared with ``calculated_at``).
    Counts come newest first, so ``updated_at`` only moves when the run completes; mid-run it resumes from the
    page token."""

    name = "inventory"
    record_kind = "stock"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(cursor)
        body = {"limit": COUNTS_PAGE, "states": mappers.STOCK_STATES}
        if mark.since:
            body["updated_after"] = format_time(mark.since)
        token = mark.resume_page
        while True:
            data = self.client.post(
                "/v2/inventory/counts/batch-retrieve", json={**body, **({"cursor": token} if token else {})}
            ).json()
            counts = data.get("counts") or []
            for count in counts:
                mark.observe(parse_time(count.get("calculated_at")))
            token = data.get("cursor")
            yield Page(mappers.map_inventory_counts(counts), mark.after_page(token) if token else mark.final())
            if not token:
                return


class SquareOrders(Stream):
    """``POST /v2/orders/search``: an ``updated_at`` window sorted by UPDATED_AT ascending (the sort field must
    match the filter field), 1000 per page, location ids in chunks of 10.

    Within a chunk the order is ascending, so the resume point is the chunk and the newest ``updated_at`` seen in
    it (minus the overlap): no Square page token is saved, and none can expire. The overlap is wide (72 h by
    default) because offline POS orders reach Square up to 72 h late."""

    name = "orders"
    record_kind = "sales"

    def overlap_window(self) -> timedelta:
        return timedelta(seconds=settings.SQUARE_ORDERS_OVERLAP_SECONDS)

    def _location_ids(self) -> list[str]:
        body = self.client.get("/v2/locations").json()
        return sorted(obj["id"] for obj in body.get("locations") or [])

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(cursor)
        resume = mark.resume_page or {}
        location_ids = self._location_ids()
        chunks = [location_ids[i : i + ORDER_LOCATIONS_PER_CALL]
                  for i in range(0, len(location_ids), ORDER_LOCATIONS_PER_CALL)]
        start_chunk = resume.get("chunk", 0) if resume.get("locations") == location_ids else 0
        if not chunks:
            yield Page([], mark.final())
            return
        for index in range(start_chunk, len(chunks)):
            since = mark.since
            if index == start_chunk and resume.get("after"):
                resumed = parse_time(resume["after"]) - self.overlap_window()
                since = resumed if since is None or resumed > since else since
            yield from self._chunk(mark, chunks, index, since, location_ids)

    def _chunk(self, mark, chunks, index, since, location_ids) -> Iterator[Page]:
        query = {"sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}
        if since:
            query["filter"] = {"date_time_filter": {"updated_at": {"start_at": format_time(since)}}}
        body = {"location_ids": chunks[index], "limit": ORDERS_PAGE, "query": query}
        token, newest = None, None
        while True:
            data = self.client.post("/v2/orders/search", json={**body, **({"cursor": token} if token else {})}).json()
            records = []
            for order in data.get("orders") or []:
                updated = parse_time(order.get("updated_at"))
                mark.observe(updated)
                newest = updated if updated and (newest is None or updated > newest) else newest
                records.extend(mappers.map_order(order))
            token = data.get("cursor")
            if token:
                position = {"locations": location_ids, "chunk": index,
                            "after": format_time(newest) if newest else None}
                yield Page(records, mark.after_page(position))
            elif index + 1 < len(chunks):
                yield Page(records, mark.after_page({"locations": location_ids, "chunk": index + 1, "after": None}))
                return
            else:
                yield Page(records, mark.final())
                return


STREAMS = {**{cls.name: cls for cls in (SquareLocations, SquareCatalog, SquareInventory, SquareOrders)},
           **reconciliation_of(SquareInventory)}
