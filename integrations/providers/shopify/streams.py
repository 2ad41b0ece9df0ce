"""Shopify streams over the GraphQL Admin API (never the legacy REST API; provider-facts 2.3-2.4).

Deltas page with Relay cursors inside the cost budget (the client paces from ``throttleStatus`` and retries
THROTTLED); the first load and ``--full`` of variants and orders use a bulk operation instead (``bulk.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone

from integrations.sync.reconcile import reconciliation_of
from integrations.sync.streams import Page, Stream, Watermark, format_time, parse_time

from . import bulk, mappers, orders, queries

BULK_PAGE = 1000  # records handed to ingest per page while streaming a bulk result


def search(since) -> str | None:
    # Shopify search syntax; the bound is exclusive, the overlap makes that safe.
    return f"updated_at:>'{format_time(since)}'" if since else None


def connection_pages(client, query: str, variables: dict, path: list[str], after: str | None = None):
    """Relay paging: yields (nodes, endCursor or None when it was the last page)."""
    while True:
        data = client.graphql(query, {**variables, "after": after})
        for key in path:
            data = (data or {}).get(key) or {}
        info = data.get("pageInfo") or {}
        after = info.get("endCursor") if info.get("hasNextPage") else None
        yield data.get("nodes") or [], after
        if after is None:
            return


class ShopifyStream(Stream):
    bulk_query: str | None = None

    def use_bulk(self, cursor: dict | None, full: bool) -> bool:
        if self.bulk_query is None or self.name not in settings.SHOPIFY_BULK_STREAMS:
            return False
        page = (cursor or {}).get("page") or {}
        return full or not (cursor or {}).get("updated_at") or "bulk" in page

    def bulk_pages(self, cursor: dict | None, map_object) -> Iterator[Page]:
        """Run (or resume reading) a bulk operation and stream its JSONL in pages."""
        resume = ((cursor or {}).get("page") or {}) if cursor else {}
        mark = Watermark({"page": resume or None, "high_water": (cursor or {}).get("high_water")}
                         if resume else None, self.overlap_window(), ordered=False)
        operation_id = resume.get("bulk")
        skip = resume.get("line", 0)
        if operation_id is None:
            operation_id = bulk.start(self.client, self.bulk_query, self.heartbeat)["id"]
            # Save where we are before the (long) wait, so a killed worker resumes the same operation.
            yield Page([], mark.after_page({"bulk": operation_id, "line": 0}))
        status = bulk.wait(self.client, operation_id, self.heartbeat)
        started = parse_time(status.get("createdAt"))
        if not status.get("url"):
            yield Page([], self._bulk_final(mark, started))
            return
        records, consumed = [], skip
        for consumed, obj, children in bulk.iter_objects(self.client, status["url"], skip=skip):
            for record in map_object(obj, children):
                mark.observe(getattr(record, "updated_at", None) or getattr(record, "order_updated_at", None))
                records.append(record)
            if len(records) >= BULK_PAGE:
                yield Page(records, mark.after_page({"bulk": operation_id, "line": consumed}))
                records = []
        # Completeness: every object the operation counted must have been read, else the run fails here, before
        # the last page, and the cursor keeps its bound (the next run resumes this operation's file).
        expected = int(status.get("objectCount") or 0)
        if consumed != expected:
            raise bulk.BulkOperationFailed(
                f"bulk operation {operation_id} counted {expected} objects but {consumed} lines were read; "
                "the cursor was not advanced")
        yield Page(records, self._bulk_final(mark, started))

    @staticmethod
    def _bulk_final(mark: Watermark, started) -> dict:
        # A bulk result is not a point-in-time snapshot (nor is an unordered variants delta): rows changed while it
        # ran may or may not be in it, so the next delta starts no later than the run's start (minus the overlap).
        if started is not None and (mark.high_water is None or started < mark.high_water):
            mark.high_water = started
        return mark.final()


class ShopifyLocations(ShopifyStream):
    name = "locations"
    record_kind = "locations"

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(None)
        records = []
        for nodes, _after in connection_pages(self.client, queries.LOCATIONS, {}, ["locations"]):
            records.extend(mappers.map_location(node) for node in nodes)
        yield Page(records, mark.final())


class ShopifyVariants(ShopifyStream):
    """``productVariants(sortKey: ID, query: "updated_at:>...")``. Shopify cannot sort variants by UPDATED_AT,
    so this is an unordered stream: mid-run the saved cursor keeps the run's lower bound and the page token, and
    the bound moves only when the run completes, to the newest ``updated_at`` seen but no later than the moment the
    run started (a variant edited behind the ID position while the run pages is then read by the next run)."""

    name = "variants"
    record_kind = "items"
    ordered = False
    bulk_query = queries.BULK_VARIANTS

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        if self.use_bulk(cursor, full):
            yield from self.bulk_pages(cursor, lambda obj, _children: [mappers.map_variant(obj)])
            return
        mark = self.watermark(cursor)
        resume = mark.resume_page if isinstance(mark.resume_page, dict) else {}
        started = parse_time(resume.get("started")) or timezone.now()
        for nodes, after in connection_pages(self.client, queries.VARIANTS, {"query": search(mark.since)},
                                             ["productVariants"], after=resume.get("after")):
            records = [mappers.map_variant(node) for node in nodes]
            for record in records:
                mark.observe(record.updated_at)
            if after:
                yield Page(records, mark.after_page({"after": after, "started": format_time(started)}))
            else:
                yield Page(records, self._bulk_final(mark, started))


class ShopifyInventory(ShopifyStream):
    """Per location, ``inventoryLevels(query: "updated_at:>...")`` with ``quantities(names: [...])``. Levels
    come in no time order, so mid-run the resume point is (location, page cursor)."""

    name = "inventory"
    record_kind = "stock"
    requires = ("variants",)  # levels name inventory items, which only the variants stream maps to variants

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        mark = self.watermark(None if full else cursor)
        resume = mark.resume_page or {}
        locations = [node["id"] for nodes, _a in connection_pages(self.client, queries.LOCATION_IDS, {},
                                                                   ["locations"]) for node in nodes]
        start = locations.index(resume["location"]) if resume.get("location") in locations else 0
        if not locations:
            yield Page([], mark.final())
            return
        for index in range(start, len(locations)):
            location = locations[index]
            first_after = resume.get("after") if index == start else None
            variables = {"location": location, "query": search(mark.since)}
            for nodes, after in connection_pages(self.client, queries.INVENTORY_LEVELS, variables,
                                                 ["location", "inventoryLevels"], after=first_after):
                records = [mappers.map_inventory_level(node, location) for node in nodes]
                for record in records:
                    mark.observe(record.as_of)
                if after:
                    position = {"location": location, "after": after}
                elif index + 1 < len(locations):
                    position = {"location": locations[index + 1], "after": None}
                else:
                    yield Page(records, mark.final())
                    return
                yield Page(records, mark.after_page(position))


class ShopifyOrders(ShopifyStream):
    """``orders(sortKey: UPDATED_AT, query: "updated_at:>...")`` with their line items, each order completed by
    ``orders.sale_lines`` (further line pages; its refunds when it has any). A refund moves the order's
    ``updatedAt``, so the next delta reads the order and its refunds again; ingest stores each refund line once."""

    name = "orders"
    record_kind = "sales"
    ordered = True
    bulk_query = queries.BULK_ORDERS

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        if self.use_bulk(cursor, full):
            yield from self.bulk_pages(cursor, lambda obj, children: orders.sale_lines(self.client, obj, children))
            return
        mark = self.watermark(cursor)
        for nodes, after in connection_pages(self.client, queries.ORDERS, {"query": search(mark.since)},
                                             ["orders"]):
            records = []
            for order in nodes:
                mark.observe(parse_time(order.get("updatedAt")))
                records.extend(orders.sale_lines(self.client, order))
            yield Page(records, mark.after_page(after) if after else mark.final())


STREAMS = {**{cls.name: cls for cls in (ShopifyLocations, ShopifyVariants, ShopifyInventory, ShopifyOrders)},
           **reconciliation_of(ShopifyInventory)}
