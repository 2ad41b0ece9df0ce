"""Normalized records: what provider mappers produce and what ``inventory.ingest`` accepts.

Plain frozen dataclasses with no link to integrations, so inventory never imports integrations. Quantities and
money are Decimals (never floats); times are timezone-aware datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Source:
    """Where records came from: the tenant, the provider key and the provider's account id
    (Square merchant id, Shopify shop domain, NetSuite account id)."""

    retailer_id: int
    provider: str
    external_account_id: str


@dataclass(frozen=True, slots=True)
class Location:
    external_id: str
    name: str
    timezone: str = ""
    address: str = ""
    active: bool = True
    updated_at: datetime | None = None
    kind: str = "store"  # store | warehouse (a WMS fulfilment centre)


@dataclass(frozen=True, slots=True)
class Item:
    """A sellable unit at the provider: a Square ITEM_VARIATION, a Shopify product variant, a NetSuite item."""

    external_id: str
    sku: str = ""
    barcode: str = ""
    name: str = ""
    deleted: bool = False
    updated_at: datetime | None = None
    # Provider-specific secondary id that other payloads refer to (Shopify inventory item id).
    secondary_id: str = ""
    # The provider's parent object, where deletes name only the parent (a Shopify variant's product id).
    parent_external_id: str = ""


@dataclass(frozen=True, slots=True)
class Deletion:
    """The provider deleted an item or a location and says only which and when (NetSuite's deleted records):
    its mapping is marked deleted at source with that time; nothing else about it changes."""

    kind: str  # "item" | "location"
    external_id: str
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StockLevel:
    location_external_id: str
    item_external_id: str
    as_of: datetime
    available: Decimal | None = None
    on_hand: Decimal | None = None
    committed: Decimal | None = None
    incoming: Decimal | None = None
    # True when item_external_id is the provider's secondary id (e.g. Shopify inventory item id).
    item_id_is_secondary: bool = False


@dataclass(frozen=True, slots=True)
class SaleLine:
    order_external_id: str
    line_external_id: str
    location_external_id: str
    item_external_id: str
    quantity: Decimal
    occurred_at: datetime
    sku: str = ""
    unit_price: Decimal | None = None
    currency: str = ""
    order_updated_at: datetime | None = None
    state: str = "completed"  # open | completed | cancelled | refunded
    # A refund or return line (negative quantity) names the sold line it gives back: that line's order and line ids.
    refund_of_order_id: str = ""
    refund_of_line_id: str = ""
    # sale (a store or web sale) | shipment (stock leaving a warehouse for an order): forecasting tells them apart.
    kind: str = "sale"


@dataclass(slots=True)
class IngestCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    held: int = 0  # stored but waiting for a mapping (unknown location or item)
    removed: int = 0
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: IngestCounts) -> IngestCounts:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.held += other.held
        self.removed += other.removed
        self.errors.extend(other.errors)
        return self

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged
