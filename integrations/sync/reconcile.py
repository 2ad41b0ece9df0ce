"""The scheduled stock check ("reconcile_stock"): read the provider's current stock levels as a full snapshot through
the provider's own inventory stream, compare them with ours (``drift``), record the drift on the run and heal ours
from the snapshot through the ordinary stock ingest.

A provider offers it by adding ``reconciliation_of(<its inventory stream>)`` to its streams and a
``reconcile_stock`` interval to ``schedule_defaults``; nothing here knows any provider. Every snapshot call is the
inventory stream's own, through the connection's resilient client, so it is paced by the same shared rate budget
and breaker as any sync.

Runs of this stream count in ``records_*`` only the levels it healed; the drift report says how many it checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from django.utils import timezone

from inventory.records import Source
from inventory.stock_levels import stored_levels

from . import drift
from .streams import Page, Stream, format_time

NAME = "reconcile_stock"
HEAL_PAGE = 1000  # healing levels per ingest transaction


class StockReconciliation(Stream):
    name = NAME
    record_kind = "stock"
    runs_with_all = False
    snapshot_stream: ClassVar[type[Stream]]

    def snapshot(self) -> dict:
        """The provider's current levels: the inventory stream read from the beginning, as a full resync reads it."""
        inner = self.snapshot_stream(self.connection, self.client, heartbeat=self.heartbeat)
        records = []
        for page in inner.pages(None, full=True):
            records.extend(page.records)
            self.heartbeat()
        return drift.merge_snapshot(records)

    def pages(self, cursor, *, full=False) -> Iterator[Page]:
        started = timezone.now()
        snapshot = self.snapshot()
        source = Source(self.connection.retailer_id, self.connection.provider, self.connection.external_account_id)
        report, heal = drift.compare(snapshot, stored_levels(source))
        summary = report.as_json()
        done = {"checked_at": format_time(started), "drifted": report.drifted}
        if not heal:
            yield Page([], done, drift=summary)
            return
        # The report is saved with the first healing page, so staff see the drift while the rest heals.
        for start in range(0, len(heal), HEAL_PAGE):
            last = start + HEAL_PAGE >= len(heal)
            yield Page(heal[start:start + HEAL_PAGE], done if last else None, drift=summary if start == 0 else None)


def reconciliation_of(inventory_stream: type[Stream]) -> dict[str, type[Stream]]:
    """``{"reconcile_stock": <a stock check reading inventory_stream>}``, for a provider's ``STREAMS``."""
    cls = type(f"{inventory_stream.__name__}Reconciliation", (StockReconciliation,), {
        "snapshot_stream": inventory_stream,
        "requires": inventory_stream.requires,  # levels name what those streams map (Shopify: variants)
        "__module__": inventory_stream.__module__,
    })
    return {NAME: cls}
