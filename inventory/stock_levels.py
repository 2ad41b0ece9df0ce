"""Our stored stock levels of one source (retailer, provider, account), keyed by the provider's own ids: what a
stock check compares with the provider's snapshot. Read only; healing goes through ``inventory.ingest``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from inventory.models import InventoryLevel
from inventory.records import Source

QUANTITIES = ("available", "on_hand", "committed", "incoming")


@dataclass(frozen=True, slots=True)
class StoredLevel:
    location_external_id: str
    item_external_id: str
    item_secondary_id: str  # e.g. Shopify's inventory item id, which its levels are keyed by
    quantities: dict[str, Decimal | None]
    as_of: datetime
    # The item or location was deleted at the provider: a snapshot is expected not to list it.
    deleted_at_source: bool


def stored_levels(source: Source, chunk_size: int = 5000) -> Iterator[StoredLevel]:
    rows = (
        InventoryLevel.objects.filter(
            retailer_id=source.retailer_id,
            store_mapping__provider=source.provider,
            store_mapping__external_account_id=source.external_account_id,
        )
        .order_by()
        .values_list("store_mapping__external_id", "product_mapping__external_id", "product_mapping__secondary_id",
                     *QUANTITIES, "as_of", "store_mapping__deleted_at_source", "product_mapping__deleted_at_source")
    )
    for location, item, secondary, *rest in rows.iterator(chunk_size=chunk_size):
        quantities = dict(zip(QUANTITIES, rest[: len(QUANTITIES)], strict=True))
        as_of, store_deleted, product_deleted = rest[len(QUANTITIES):]
        yield StoredLevel(location, item, secondary or "", quantities, as_of, bool(store_deleted or product_deleted))
