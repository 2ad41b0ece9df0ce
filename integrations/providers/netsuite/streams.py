"""NetSuite streams over SuiteQL (provider-facts 3.3). Every call goes through the resilient client, whose
concurrency policy holds the account-wide slot; these classes build queries, page in key windows and map.

Cursor: rows come ordered by internal id, not by ``lastmodifieddate``, so (as for Square's unordered searches) the
delta bound moves only when a run completes; mid-run the page token is the last key committed, and a resumed run
re-queries after it. Per-connection settings (``Connection.settings``):

- ``timezone``: the zone of the integration user's session (SuiteQL dates are in it); default UTC.
- ``item_types``: item types synced (default inventory and assembly items).
- ``include_sales_orders``: also sync ``SalesOrd`` (off by default: a sales order and the invoice billing it
  are the same sale, so accounts that invoice their orders would count it twice).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.sync.reconcile import reconciliation_of
from integrations.sync.streams import Page, Stream

from . import mappers, queries, suiteql


class NetSuiteStream(Stream):
    def setting(self, name: str, default=None):
        return (self.connection.settings or {}).get(name, default)

    def zone(self):
        name = self.setting("timezone") or "UTC"
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"connection setting timezone={name!r} is not an IANA time zone") from None

    def item_types(self) -> list[str]:
        return list(self.setting("item_types") or queries.DEFAULT_ITEM_TYPES)

    def local_since(self, mark) -> datetime | None:
        return mappers.to_session_time(mark.since, self.zone()) if mark.since else None

    @staticmethod
    def resume_key(mark) -> list | None:
        return (mark.resume_page or {}).get("after") if isinstance(mark.resume_page, dict) else None


class NetSuiteLocations(NetSuiteStream):
    """All locations, every run (a handful of rows)."""

    name = "locations"
    record_kind = "locations"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        zone = self.zone()
        rows = suiteql.read_all(self.client, queries.locations())
        yield Page([mappers.map_location(row, zone) for row in rows], self.watermark(None).final())


class NetSuiteItems(NetSuiteStream):
    """Items changed since the cursor (``lastmodifieddate``), in id order."""

    name = "items"
    record_kind = "items"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(None if full else cursor)
        zone = self.zone()
        query = queries.items(self.item_types(), self.local_since(mark))
        for batch in suiteql.read(self.client, query, self.resume_key(mark)):
            records = [mappers.map_item(row, zone) for row in batch.rows]
            for record in records:
                mark.observe(record.updated_at)
            self.heartbeat()
            yield Page(records, mark.after_page({"after": batch.last_key}) if batch.more else mark.final())


class NetSuiteInventory(NetSuiteStream):
    """Stock by item and location from ``inventoryitemlocations``: a full read each run (no modification date),
    resumable by (item, location) key."""

    name = "inventory"
    record_kind = "stock"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(None if full else cursor)
        query = queries.stock(self.item_types())
        for batch in suiteql.read(self.client, query, self.resume_key(mark)):
            as_of = datetime.now(UTC)
            self.heartbeat()
            yield Page([mappers.map_stock(row, as_of) for row in batch.rows],
                       mark.after_page({"after": batch.last_key}) if batch.more else mark.final())


class NetSuiteSales(NetSuiteStream):
    """Cash sales and invoices (and sales orders, as a setting) changed since the cursor, with their item lines.

    A page is one SuiteQL page of transaction headers plus *all* their item lines (read in a second query by id),
    so every page carries whole orders, as ingest's ``replace_orders`` requires."""

    name = "sales"
    record_kind = "sales"

    def types(self) -> list[str]:
        types = list(self.setting("sale_types") or queries.DEFAULT_SALE_TYPES)
        if self.setting("include_sales_orders") and queries.SALES_ORDER not in types:
            types.append(queries.SALES_ORDER)
        return types

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(None if full else cursor)
        zone = self.zone()
        query = queries.sale_headers(self.types(), self.local_since(mark))
        for batch in suiteql.read(self.client, query, self.resume_key(mark)):
            lines = []
            if batch.rows:
                lines = suiteql.read_all(self.client, queries.sale_lines([row["id"] for row in batch.rows]))
            records = mappers.map_sales(batch.rows, lines, zone)
            for header in batch.rows:
                mark.observe(mappers.local_time(header.get("lastmodified"), zone))
            self.heartbeat()
            yield Page(records, mark.after_page({"after": batch.last_key}) if batch.more else mark.final())


class NetSuiteDeletes(NetSuiteStream):
    """Items and locations deleted since the cursor, from NetSuite's deleted-records log (``deletedrecord``):
    their mappings are marked deleted at source with NetSuite's deletion time. Items first, then locations, each
    in record-id order; mid-run the page token is (group, last key), and the bound moves when the run completes
    (rows are not read in ``deleteddate`` order)."""

    name = "deletes"
    record_kind = "deletions"
    GROUPS = ("item", "location")

    def record_types(self, group: str) -> list[str]:
        if group == "location":
            return list(queries.LOCATION_RECORD_TYPES)
        return sorted({queries.ITEM_RECORD_TYPES.get(t, t.lower()) for t in self.item_types()})

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(None if full else cursor)
        zone = self.zone()
        resume = mark.resume_page if isinstance(mark.resume_page, dict) else {}
        start = self.GROUPS.index(resume["group"]) if resume.get("group") in self.GROUPS else 0
        for index in range(start, len(self.GROUPS)):
            group = self.GROUPS[index]
            query = queries.deleted_records(self.record_types(group), self.local_since(mark))
            after = resume.get("after") if index == start else None
            for batch in suiteql.read(self.client, query, after):
                records = [mappers.map_deletion(row, group, zone) for row in batch.rows]
                for record in records:
                    mark.observe(record.deleted_at)
                self.heartbeat()
                if batch.more:
                    yield Page(records, mark.after_page({"group": group, "after": batch.last_key}))
                elif index + 1 < len(self.GROUPS):
                    yield Page(records, mark.after_page({"group": self.GROUPS[index + 1], "after": None}))
                else:
                    yield Page(records, mark.final())


STREAMS = {**{cls.name: cls for cls in (NetSuiteLocations, NetSuiteItems, NetSuiteInventory, NetSuiteSales,
                                        NetSuiteDeletes)},
           **reconciliation_of(NetSuiteInventory)}
