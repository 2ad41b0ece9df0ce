"""Deterministic merchant data, generated lazily by index.

Every record is a pure function of (seed, sizes, index): nothing is materialised up front, so a merchant with
100k variants and 1M order lines costs no memory until a page of it is asked for, and two processes with the same
seed see the same data. Timestamps grow with the index (variants, stock rows and orders are each spread over a
window before ``anchor``), which turns "updated after T" filters into index arithmetic instead of scans.

On top of the generated base, ``Merchant`` keeps a small in-memory overlay of changes made at run time (sales,
stock changes, product edits) so the sandbox can emit webhooks for them and the APIs return the changed data.

Public API used by benchmarks (``from sandbox.data import Merchant, Sizes``)::

    m = Merchant("bench", Sizes(products=50_000, locations=5, orders=333_334))
    for line in m.iter_order_lines(): ...          # streams OrderLine records, constant memory
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from .order_changes import OrderChanges, Refund

# Base data is dated before this instant, so anything created at run time ("now") is newer than all of it.
DEFAULT_ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
DAY_MS = 86_400_000
CITIES = [("Portland", "America/Los_Angeles", "OR"), ("Austin", "America/Chicago", "TX"),
          ("Brooklyn", "America/New_York", "NY"), ("Denver", "America/Denver", "CO"),
          ("Seattle", "America/Los_Angeles", "WA"), ("Chicago", "America/Chicago", "IL")]
ADJECTIVES = ["Organic", "Classic", "Roasted", "Sparkling", "Smoked", "Whole", "Spiced", "Fresh", "Aged", "Wild"]
NOUNS = ["Coffee", "Granola", "Olive Oil", "Tea", "Honey", "Pasta", "Salsa", "Chocolate", "Almonds", "Cider"]
SIZES_LABELS = ["Small", "Large", "Family", "Single", "Twin Pack", "Bulk"]


def rand(seed: str, kind: str, index: int) -> int:
    """A stable 64-bit pseudo-random number for (seed, kind, index); Python's hash() is salted per process."""
    digest = hashlib.blake2b(f"{seed}\x00{kind}\x00{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rand_many(seed: str, kind: str, index: int) -> list[int]:
    """Eight stable 64-bit numbers from one hash (cheaper than eight ``rand`` calls on hot paths)."""
    digest = hashlib.blake2b(f"{seed}\x00{kind}\x00{index}".encode(), digest_size=64).digest()
    return [int.from_bytes(digest[i : i + 8], "big") for i in range(0, 64, 8)]


def _sku_key(sku: str) -> str:
    return "".join(c for c in sku.upper() if c.isalnum())


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def dt_to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def rfc3339(value: datetime) -> str:
    text = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class Sizes:
    products: int = 200
    locations: int = 3
    orders: int = 300
    variants_per_product: int = 2
    max_lines_per_order: int = 4

    @property
    def variants(self) -> int:
        return self.products * self.variants_per_product


@dataclass(frozen=True)
class Location:
    index: int
    name: str
    city: str
    region: str
    timezone: str
    street: str = ""
    postal: str = ""
    truth: str = ""  # the retailer's true store (sandbox.catalog), when the account belongs to one

    @property
    def street_line(self) -> str:
        return self.street or f"{100 + self.index} Main St"


@dataclass(frozen=True)
class Variant:
    index: int
    product_index: int
    product_name: str
    name: str  # the variation name ("Large")
    sku: str
    barcode: str  # 12-digit UPC
    price_cents: int
    updated_at: datetime
    deleted: bool = False
    truth: str = ""  # the retailer's true product (sandbox.catalog), when the account belongs to one

    @property
    def title(self) -> str:
        return f"{self.product_name} - {self.name}"


@dataclass(frozen=True)
class Stock:
    variant_index: int
    location_index: int
    on_hand: int
    committed: int
    updated_at: datetime

    @property
    def available(self) -> int:
        return self.on_hand - self.committed


@dataclass(frozen=True)
class OrderLine:
    order_index: int
    line_index: int
    variant_index: int
    sku: str
    quantity: int
    unit_price_cents: int
    location_index: int
    occurred_at: datetime


@dataclass(frozen=True)
class Order:
    index: int
    location_index: int
    created_at: datetime
    updated_at: datetime
    state: str  # COMPLETED | CANCELED
    lines: tuple[OrderLine, ...]
    currency: str = "USD"
    # A return order (Square's itemized refund): (sold order index, line index, quantity) given back.
    returns: tuple[tuple[int, int, int], ...] = ()

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)


@dataclass
class Overlay:
    """Run-time changes on top of the generated base (small: one entry per change made)."""

    variants: dict[int, Variant] = field(default_factory=dict)
    stock: dict[tuple[int, int], Stock] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    # order index -> the order after a change that moves its updated_at (cancelled, refunded)
    cancelled: dict[int, Order] = field(default_factory=dict)
    refunds: dict[int, list[Refund]] = field(default_factory=dict)  # order index -> its refunds, oldest first
    refund_count: int = 0
    given_back: dict[tuple[int, int], int] = field(default_factory=dict)  # (order, line) -> units refunded/returned
    deleted_locations: dict[int, datetime] = field(default_factory=dict)  # location index -> when it was deleted
    version: int = 0


class Merchant(OrderChanges):
    """One provider account's catalogue, locations, stock and sales."""

    def __init__(self, seed: str, sizes: Sizes | None = None, anchor: datetime = DEFAULT_ANCHOR,
                 currency: str = "USD", view=None):
        self.seed = seed
        # A sandbox.catalog.CatalogView when this account is one of a retailer's systems (shared ground truth).
        self.view = view
        self.sizes = sizes or Sizes()
        self.currency = currency
        self.anchor_ms = dt_to_ms(anchor)
        self.overlay = Overlay()
        self.lock = threading.RLock()
        # Base variants are pure functions of their index, and every order line asks for one (a page of 1000
        # orders asks ~2,500 times for a few thousand distinct variants): generate each once. Bounded, so the
        # largest benchmark catalogue (100k variants) cannot grow the sandbox without limit.
        self.base_variant = lru_cache(maxsize=1 << 16)(self._generate_variant)
        # Provider modules keep per-merchant render caches here (e.g. the Square line-item fields of a variant),
        # each entry checked against the variant object it was made from, so an overlay edit is never served stale.
        self.render_cache: dict[str, dict] = {}
        s = self.sizes
        # Windows: variants were last edited 90..30 days before the anchor, stock counted 30..0 days before it,
        # orders updated over the 60 days before it. Steps are integers so the index<->time maps are exact.
        self._variant_start, self._variant_step = self._window(90, 60, max(s.variants, 1))
        self._stock_start, self._stock_step = self._window(30, 30, max(s.variants * s.locations, 1))
        self._order_start, self._order_step = self._window(60, 60, max(s.orders, 1))

    def _window(self, days_before: int, days_long: int, count: int) -> tuple[int, int]:
        return self.anchor_ms - days_before * DAY_MS, max(1, (days_long * DAY_MS) // count)

    # --- locations ---------------------------------------------------------------------------------------
    def location(self, index: int) -> Location:
        if self.view is not None:
            s = self.view.store(index)
            return Location(index, s.name, s.city, s.region, s.timezone, s.street, s.postal, s.truth)
        city, tz, region = CITIES[(rand(self.seed, "loc", index) + index) % len(CITIES)]
        return Location(index, f"{city} #{index + 1}", city, region, tz)

    def locations(self) -> list[Location]:
        return [self.location(i) for i in range(self.sizes.locations)]

    # --- catalogue -----------------------------------------------------------------------------------------
    def product_name(self, product_index: int) -> str:
        r = rand(self.seed, "product", product_index)
        return f"{ADJECTIVES[r % 10]} {NOUNS[(r >> 8) % 10]} {product_index + 1}"

    def _generate_variant(self, index: int) -> Variant:
        p, k = divmod(index, self.sizes.variants_per_product)
        r = rand(self.seed, "variant", index)
        if self.view is not None:
            item = self.view.item(index)
            return Variant(index=index, product_index=p, product_name=item.product_name, name=item.variant_name,
                           sku=item.sku, barcode=item.barcode, price_cents=self._base_price(index),
                           updated_at=ms_to_dt(self._variant_start + index * self._variant_step), truth=item.truth)
        return Variant(
            index=index, product_index=p, product_name=self.product_name(p),
            name=SIZES_LABELS[(r + k) % len(SIZES_LABELS)] if self.sizes.variants_per_product > 1 else "Regular",
            sku=f"SKU-{index + 1:06d}", barcode=f"{(r >> 16) % 10**11:011d}{index % 10}",
            price_cents=self._base_price(index),
            updated_at=ms_to_dt(self._variant_start + index * self._variant_step),
        )

    def _base_price(self, index: int) -> int:
        return 199 + (rand(self.seed, "variant", index) >> 40) % 4800

    def variant(self, index: int) -> Variant:
        edited = self.overlay.variants.get(index)
        return edited if edited is not None else self.base_variant(index)

    def variant_by_sku(self, sku: str) -> Variant | None:
        if self.view is not None:
            # Catalog views spell SKUs their own way ("sku-000001", "SKU000001"); the digits are the index.
            digits = "".join(c for c in sku if c.isdigit())
            index = int(digits) - 1 if digits else -1
            if 0 <= index < self.sizes.variants and _sku_key(self.variant(index).sku) == _sku_key(sku):
                return self.variant(index)
            return None
        if sku.startswith("SKU-") and sku[4:].isdigit():
            index = int(sku[4:]) - 1
            if 0 <= index < self.sizes.variants:
                return self.variant(index)
        return None

    def first_variant_updated_after(self, after: datetime | None) -> int:
        """Index of the first *base* variant whose updated_at is strictly after ``after``."""
        return self._first_after(after, self._variant_start, self._variant_step, self.sizes.variants)

    def iter_variants(self, start: int = 0, updated_after: datetime | None = None) -> Iterator[Variant]:
        """Variants in index order from ``start``, optionally only those updated strictly after a time
        (base rows past the threshold, merged with edited rows, which are always newer than the base)."""
        first_base = max(start, self.first_variant_updated_after(updated_after))
        edited = sorted(i for i, v in self.overlay.variants.items()
                        if i >= start and (updated_after is None or v.updated_at > updated_after))
        pos = bisect.bisect_left(edited, first_base)
        yield from (self.variant(i) for i in edited[:pos])
        for i in range(first_base, self.sizes.variants):
            yield self.variant(i)

    # --- stock ---------------------------------------------------------------------------------------------
    def stock_row(self, row: int) -> Stock:
        """Stock row ``row`` = variant * locations + location, dated in row order."""
        v, loc = divmod(row, self.sizes.locations)
        override = self.overlay.stock.get((v, loc))
        if override is not None:
            return override
        r = rand(self.seed, "stock", row)
        on_hand = r % 120
        return Stock(v, loc, on_hand, min(on_hand, (r >> 12) % 6),
                     ms_to_dt(self._stock_start + row * self._stock_step))

    def stock(self, variant_index: int, location_index: int) -> Stock:
        return self.stock_row(variant_index * self.sizes.locations + location_index)

    @property
    def stock_rows(self) -> int:
        return self.sizes.variants * self.sizes.locations

    def first_stock_row_updated_after(self, after: datetime | None) -> int:
        return self._first_after(after, self._stock_start, self._stock_step, self.stock_rows)

    # --- orders --------------------------------------------------------------------------------------------
    @property
    def order_count(self) -> int:
        return self.sizes.orders + len(self.overlay.orders)

    def order(self, index: int) -> Order:
        cancelled = self.overlay.cancelled.get(index)
        if cancelled is not None:
            return cancelled
        if index >= self.sizes.orders:
            return self.overlay.orders[index - self.sizes.orders]
        s = self.sizes
        r, *line_rands = rand_many(self.seed, "order", index)
        created_ms = self._order_start + index * self._order_step
        created = ms_to_dt(created_ms)
        location = r % s.locations
        lines = []
        for k in range(1 + (r >> 8) % min(s.max_lines_per_order, len(line_rands))):
            lr = line_rands[k]
            v = lr % s.variants
            sku = self.base_variant(v).sku if self.view is not None else f"SKU-{v + 1:06d}"
            lines.append(OrderLine(index, k, v, sku, 1 + (lr >> 20) % 3, self._base_price(v),
                                   location, created))
        state = "CANCELED" if (r >> 32) % 50 == 0 else "COMPLETED"
        # updated_at stays inside the order's own time step, so updated_at order == index order.
        updated = ms_to_dt(created_ms + (r >> 40) % self._order_step)
        return Order(index, location, created, updated, state, tuple(lines), self.currency)

    def first_order_updated_after(self, after: datetime | None) -> int:
        """Index of the first order (base or overlay) updated strictly after ``after``."""
        # _first_after finds the first order *created* after; the one before may still be *updated* after.
        first = max(0, self._first_after(after, self._order_start, self._order_step, self.sizes.orders) - 1)
        if first < self.sizes.orders:
            # The bucket is right but updated_at sits somewhere inside the step: check the boundary order.
            while first < self.sizes.orders and after is not None and self.order(first).updated_at <= after:
                first += 1
            if first < self.sizes.orders:
                return first
        extra = [o.updated_at for o in self.overlay.orders]
        return self.sizes.orders + (bisect.bisect_right(extra, after) if after else 0)

    def iter_orders(self, start: int = 0, stop: int | None = None) -> Iterator[Order]:
        stop = self.order_count if stop is None else min(stop, self.order_count)
        for i in range(start, stop):
            yield self.order(i)

    def iter_order_lines(self, start: int = 0, stop: int | None = None) -> Iterator[OrderLine]:
        for order in self.iter_orders(start, stop):
            yield from order.lines

    def count_order_lines(self) -> int:
        return sum(len(o.lines) for o in self.iter_orders())

    # --- run-time changes (the overlay) --------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def record_sale(self, location_index: int, items: list[tuple[int, int]], at: datetime) -> tuple[Order, list]:
        """A completed sale of (variant index, quantity) pairs; returns the order and the changed stock rows."""
        with self.lock:
            index = self.order_count
            if self.overlay.orders and at <= self.overlay.orders[-1].updated_at:
                at = self.overlay.orders[-1].updated_at + timedelta(milliseconds=1)  # keep updated_at sorted
            lines = tuple(
                OrderLine(index, k, v, self.variant(v).sku, qty, self.variant(v).price_cents, location_index, at)
                for k, (v, qty) in enumerate(items)
            )
            order = Order(index, location_index, at, at, "COMPLETED", lines, self.currency)
            self.overlay.orders.append(order)
            changed = []
            for v, qty in items:
                current = self.stock(v, location_index)
                changed.append(self.set_stock(v, location_index, current.on_hand - qty, at))
            self.overlay.version += 1
            return order, changed

    def delete_location(self, index: int, at: datetime) -> None:
        with self.lock:
            if not 0 <= index < self.sizes.locations:
                raise ValueError(f"location index {index} out of range")
            self.overlay.deleted_locations.setdefault(index, at)
            self.overlay.version += 1

    def updated_tail(self) -> list[int]:
        """Indexes of orders changed at run time (new or cancelled), by updated_at: base orders that were
        cancelled leave their index position and come after every base order, as sorting by UPDATED_AT puts them."""
        changed = {o.index: o for o in self.overlay.orders}
        changed.update(self.overlay.cancelled)
        return [i for i, _ in sorted(changed.items(), key=lambda item: (item[1].updated_at, item[0]))]

    def set_stock(self, variant_index: int, location_index: int, on_hand: int, at: datetime) -> Stock:
        with self.lock:
            current = self.stock(variant_index, location_index)
            row = replace(current, on_hand=on_hand, committed=min(current.committed, max(on_hand, 0)), updated_at=at)
            self.overlay.stock[(variant_index, location_index)] = row
            self.overlay.version += 1
            return row

    def edit_variant(self, variant_index: int, at: datetime, **changes) -> Variant:
        with self.lock:
            variant = replace(self.variant(variant_index), updated_at=at, **changes)
            self.overlay.variants[variant_index] = variant
            self.overlay.version += 1
            return variant

    @staticmethod
    def _first_after(after: datetime | None, start_ms: int, step_ms: int, count: int) -> int:
        if after is None:
            return 0
        delta = dt_to_ms(after) - start_ms
        if delta < 0:
            return 0
        return min(count, delta // step_ms + 1)
