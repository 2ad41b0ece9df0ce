"""ShipBob streams. Every call goes through the resilient client (the shared sliding-window budget, retries,
call log); these classes only build requests, page and map.

Lists page with the ``next`` URL of ``{"items", "next", ...}``: the stream re-requests its own path with that
URL's ``Cursor`` parameter, so a page can never send the client to another host.

Stock: ShipBob has no inventory webhook. A full read of ``inventory-level/locations`` runs on the first sync, on
``--full`` and every ``SHIPBOB_FULL_STOCK_SECONDS``; in between, ``inventory/history:query`` per fulfilment
centre (its cursor = the last ``inventory_audit_event_id`` seen, events after it; at most 90 days back) names the
inventory items whose stock moved, and only their levels are read again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.utils import timezone

from integrations.sync.reconcile import reconciliation_of
from integrations.sync.streams import Page, Stream, format_time, parse_time

from . import mappers

PAGE = 250  # the largest PageSize ShipBob's list endpoints take
HISTORY_PAGE = 100
HISTORY_LOOKBACK = timedelta(days=90)
LEVEL_IDS_PER_CALL = 100


def next_cursor(body: dict) -> str | None:
    link = body.get("next") if isinstance(body, dict) else None
    if not link:
        return None
    values = parse_qs(urlsplit(link).query).get("Cursor")
    return values[0] if values else None


def paged(client, path: str, params: dict, start: str | None = None) -> Iterator[tuple[list, str | None]]:
    cursor = start
    while True:
        body = client.get(path, params={**params, **({"Cursor": cursor} if cursor else {})}).json() or {}
        cursor = next_cursor(body)
        yield body.get("items") or [], cursor
        if not cursor:
            return


class FulfilmentCentres(Stream):
    name = "locations"
    record_kind = "locations"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        centres = self.client.get("/fulfillment-center").json() or []
        yield Page([mappers.map_fulfilment_centre(fc) for fc in centres], self.watermark(None).final())


class Products(Stream):
    """Every product's variants with their inventory ids; resumed mid-run from the page cursor."""

    name = "products"
    record_kind = "items"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(None if full else cursor)
        for products, token in paged(self.client, "/product", {"PageSize": PAGE}, mark.resume_page):
            records = mappers.map_products(products)
            for record in records:
                mark.observe(record.updated_at)
            yield Page(records, mark.after_page(token) if token else mark.final())


class InventoryLevels(Stream):
    name = "inventory"
    record_kind = "stock"
    requires = ("locations", "products")

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        cursor = cursor or {}
        now = timezone.now()
        full_at = parse_time(cursor.get("full_at"))
        due = full_at is None or now - full_at >= timedelta(seconds=settings.SHIPBOB_FULL_STOCK_SECONDS)
        centres = [str(fc["id"]) for fc in self.client.get("/fulfillment-center").json() or []]
        events = dict(cursor.get("events") or {})
        if full or due or not events:
            # Note each centre's newest history event first, so changes made during the full read are read again.
            events = {fc: self._newest_event(fc, events.get(fc)) for fc in centres}
            yield from self._full(now, events)
            return
        changed: set[str] = set()
        for fc in centres:
            last = events.get(fc)
            for batch in self._history(fc, last):
                changed.update(str(e["inventory_id"]) for e in batch)
                events[fc] = batch[-1]["inventory_audit_event_id"]
        value = {"full_at": cursor.get("full_at"), "events": events, "updated_at": None, "page": None}
        ids = sorted(changed)
        if not ids:
            yield Page([], value)
            return
        for start in range(0, len(ids), LEVEL_IDS_PER_CALL):
            chunk = ids[start:start + LEVEL_IDS_PER_CALL]
            records = []
            for levels, _ in paged(self.client, "/inventory-level/locations",
                                   {"PageSize": PAGE, "InventoryIds": ",".join(chunk)}):
                records.extend(mappers.map_levels(levels, timezone.now()))
            yield Page(records, value)

    def _full(self, now: datetime, events: dict) -> Iterator[Page]:
        value = {"full_at": format_time(now), "events": events, "updated_at": None, "page": None}
        pages = list(paged(self.client, "/inventory-level/locations", {"PageSize": PAGE}))
        for i, (levels, _) in enumerate(pages):
            # Only the last page records the full read as done: an interrupted one starts over.
            yield Page(mappers.map_levels(levels, now), value if i == len(pages) - 1 else None)

    def _history(self, fc: str, after) -> Iterator[list]:
        start = datetime.now(tz=UTC) - HISTORY_LOOKBACK + timedelta(minutes=5)
        while True:
            body = {"facility_id": int(fc), "start_date": format_time(start)}
            if after:
                body["cursor"] = int(after)
            batch = (self.client.post("/inventory/history:query", json=body).json() or {}).get("data") or []
            if batch:
                yield batch
                after = batch[-1]["inventory_audit_event_id"]
            if len(batch) < HISTORY_PAGE:
                return

    def _newest_event(self, fc: str, known):
        newest = known
        for batch in self._history(fc, known):
            newest = batch[-1]["inventory_audit_event_id"]
        return newest


class Shipments(Stream):
    """``GET /order`` by ``LastUpdateStartDate``, oldest first, each order's shipments as outbound lines."""

    name = "shipments"
    record_kind = "sales"
    ordered = True
    requires = ("locations", "products")

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(None if full else cursor)
        params = {"PageSize": PAGE, "SortOrder": "Oldest"}
        if mark.since:
            params["LastUpdateStartDate"] = format_time(mark.since)
        for orders, token in paged(self.client, "/order", params):
            records = []
            for order in orders:
                mark.observe(parse_time(order.get("last_updated_date")) if order.get("last_updated_date") else None)
                records.extend(mappers.map_order(order))
            yield Page(records, mark.after_page(token) if token else mark.final())


STREAMS = {**{cls.name: cls for cls in (FulfilmentCentres, Products, InventoryLevels, Shipments)},
           **reconciliation_of(InventoryLevels)}
