"""One retailer's ground truth: the catalog and store list its Square, Shopify and NetSuite accounts all draw from.

Real retailers' systems overlap without agreeing: the same SKUs typed differently (case, dashes, spaces), the same
GTIN printed as a UPC-A (12 digits), an EAN-13 with a leading zero or a GTIN-14, barcodes missing in one system and
now and then conflicting, names differing in case, punctuation and wording, stores at the same address under
different names and ids, and a few items kept in one system only. A ``CatalogView`` renders the truth the way
one provider keeps it; ``sandbox.data.Merchant`` asks its view (when its account belongs to a retailer) for each
variant and location instead of generating its own.

Everything is a pure function of (retailer seed, index), like ``sandbox.data``: nothing is materialised, so a
100k-item catalog costs no memory. The truth (which provider records are the same product/store) is served by
the control API (``GET /_sandbox/retailers/<seed>/truth``) for tests and benchmarks only; the portal never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdnum import ean

from .data import ADJECTIVES, NOUNS, SIZES_LABELS, rand

# Per-provider share (in %) of items kept only in that system, with no barcode, and with a different valid GTIN
# than the other systems (a data-entry conflict the matcher must surface, never merge or split silently).
ONLY_HERE_PCT = 3
MISSING_BARCODE_PCT = 5
CONFLICTING_BARCODE_PCT = 1
STREETS = ["Main", "Oak", "Market", "Pine", "Cedar", "Lake", "Hill", "Park"]
STORE_CITIES = [("Portland", "America/Los_Angeles", "OR"), ("Austin", "America/Chicago", "TX"),
                ("Brooklyn", "America/New_York", "NY"), ("Denver", "America/Denver", "CO"),
                ("Seattle", "America/Los_Angeles", "WA"), ("Chicago", "America/Chicago", "IL")]


def gtin12(number: int) -> str:
    """A valid UPC-A (GTIN-12) from an 11-digit number: the check digit is computed, never made up."""
    body = f"{number % 10**11:011d}"
    return body + ean.calc_check_digit(body)


@dataclass(frozen=True)
class TrueProduct:
    index: int
    sku: str  # canonical SKU, "SKU-000123"
    upc: str  # canonical GTIN as UPC-A (12 digits)
    product_name: str
    variant_name: str


@dataclass(frozen=True)
class TrueStore:
    index: int
    number: int  # street number
    street: str
    city: str
    region: str
    postal: str
    timezone: str


@dataclass(frozen=True)
class ViewItem:
    """How one provider keeps one of its items, and which true product it is (``truth``)."""

    truth: str
    sku: str
    barcode: str
    product_name: str
    variant_name: str


@dataclass(frozen=True)
class ViewStore:
    truth: str
    name: str
    street: str
    city: str
    region: str
    postal: str
    timezone: str


class RetailerCatalog:
    def __init__(self, seed: str, variants_per_product: int = 2):
        self.seed = seed
        self.per = max(1, variants_per_product)

    def product(self, index: int) -> TrueProduct:
        p, k = divmod(index, self.per)
        r = rand(self.seed, "truth-product", p)
        rv = rand(self.seed, "truth-variant", index)
        return TrueProduct(
            index=index, sku=f"SKU-{index + 1:06d}",
            # Index-derived digits keep the canonical GTINs distinct across the whole catalog.
            upc=gtin12(10**10 + index * 11 + (rv % 7)),
            product_name=f"{ADJECTIVES[r % 10]} {NOUNS[(r >> 8) % 10]} {p + 1}",
            variant_name=SIZES_LABELS[(rv + k) % len(SIZES_LABELS)] if self.per > 1 else "Regular",
        )

    def store(self, index: int) -> TrueStore:
        city, tz, region = STORE_CITIES[(rand(self.seed, "truth-store", index) + index) % len(STORE_CITIES)]
        return TrueStore(index, 100 + index * 7, STREETS[index % len(STREETS)], city, region,
                         f"{97000 + index:05d}", tz)

    def view(self, provider: str) -> CatalogView:
        return CatalogView(self, provider)


class CatalogView:
    """The catalog as one provider account keeps it. Item and location indexes are the provider's own."""

    def __init__(self, catalog: RetailerCatalog, provider: str):
        self.catalog = catalog
        self.provider = provider
        self.render = RENDERERS[provider]
        # Leading digits 3 and 4 (with this number last) keep made-up GTINs apart from the canonical ones (1...).
        # (ShipBob, the fourth system, takes leading digits 5 and 6 instead, so the three older views keep their data.)
        self.number = sorted(set(RENDERERS) - {"shipbob"}).index(provider) if provider != "shipbob" else 0
        self.prefix = 5 if provider == "shipbob" else 3

    def item(self, index: int) -> ViewItem:
        roll = rand(self.catalog.seed, f"view-{self.provider}", index)
        pct = roll % 100
        if pct < ONLY_HERE_PCT:
            # Kept only in this system: its own SKU and GTIN, which no other system knows.
            truth = self.catalog.product(index)
            prefix = "SB" if self.provider == "shipbob" else self.provider[:2].upper()
            upc = gtin12((self.prefix + 1) * 10**10 + index * 3 + self.number)
            return ViewItem(f"{self.provider}-only-{index}", f"{prefix}X-{index + 1:06d}",
                            self.render.barcode(upc), f"House {truth.product_name}", truth.variant_name)
        truth = self.catalog.product(index)
        upc = truth.upc
        if pct < ONLY_HERE_PCT + MISSING_BARCODE_PCT:
            upc = ""
        elif pct < ONLY_HERE_PCT + MISSING_BARCODE_PCT + CONFLICTING_BARCODE_PCT:
            upc = gtin12(self.prefix * 10**10 + index * 3 + self.number)
        return ViewItem(f"p{index}", self.render.sku(truth.sku, roll >> 8),
                        self.render.barcode(upc) if upc else "",
                        *self.render.names(truth.product_name, truth.variant_name, roll >> 16))

    def store(self, index: int) -> ViewStore:
        s = self.catalog.store(index)
        return ViewStore(f"s{index}", self.render.store_name(s), self.render.street(s), s.city, s.region, s.postal,
                         s.timezone)


class _Square:
    """Square keeps the canonical SKU, the UPC-A as printed and "Title Case" names."""

    @staticmethod
    def sku(sku: str, r: int) -> str:
        return sku

    @staticmethod
    def barcode(upc: str) -> str:
        return upc

    @staticmethod
    def names(product: str, variant: str, r: int) -> tuple[str, str]:
        return product, variant

    @staticmethod
    def store_name(s: TrueStore) -> str:
        return f"{s.city} #{s.index + 1}"

    @staticmethod
    def street(s: TrueStore) -> str:
        return f"{s.number} {s.street} Street"


class _Shopify:
    """Shopify: SKUs often lower-cased or padded, barcodes as EAN-13 (a UPC-A with its leading zero)."""

    @staticmethod
    def sku(sku: str, r: int) -> str:
        return [sku, sku.lower(), f" {sku}", sku.lower() + " "][r % 4]

    @staticmethod
    def barcode(upc: str) -> str:
        return "0" + upc

    @staticmethod
    def names(product: str, variant: str, r: int) -> tuple[str, str]:
        return (product.lower() if r % 3 == 0 else product), variant.lower() if r % 2 else variant

    @staticmethod
    def store_name(s: TrueStore) -> str:
        return f"{s.city} - {s.street} St"

    @staticmethod
    def street(s: TrueStore) -> str:
        return f"{s.number} {s.street} St"


class _NetSuite:
    """NetSuite: item ids without dashes or with spaces, GTIN-14 barcodes, upper-case names worded differently."""

    @staticmethod
    def sku(sku: str, r: int) -> str:
        return [sku.replace("-", ""), sku.replace("-", " "), sku][r % 3]

    @staticmethod
    def barcode(upc: str) -> str:
        return "00" + upc

    @staticmethod
    def names(product: str, variant: str, r: int) -> tuple[str, str]:
        words = product.split()
        if r % 2:  # "Coffee, Organic 12": the noun first, as ERPs often file things
            words = [*words[1:-1], words[0], words[-1]]
            return " ".join(words).upper().replace(" ", ", ", 1), variant.upper()
        return product.upper() + ".", f"({variant})"

    @staticmethod
    def store_name(s: TrueStore) -> str:
        return f"{s.region}-{s.index + 1:03d} {s.city.upper()}"

    @staticmethod
    def street(s: TrueStore) -> str:
        return f"{s.number} {s.street.upper()} ST."


class _ShipBob(_Square):
    """ShipBob: the merchant's SKUs upper-cased as the WMS stores them, UPC-A barcodes; its locations are ShipBob's
    own fulfilment centres, not the retailer's stores (sandbox.shipbob.common)."""
    # Barcodes, names and streets as Square keeps them (the merchant's catalog as printed); only these differ.

    @staticmethod
    def sku(sku: str, r: int) -> str:
        return sku.upper()

    @staticmethod
    def store_name(s: TrueStore) -> str:
        return f"Fulfillment center {s.index + 1}"


RENDERERS = {"square": _Square, "shopify": _Shopify, "netsuite": _NetSuite, "shipbob": _ShipBob}


def truth(state, seed: str) -> dict:
    """The ground truth for a registered retailer, keyed the way the portal keys provider records:
    ``{"items": {provider: {external_id: true id}}, "locations": {...}, "accounts": {provider: account}}``.
    Records with the same true id are the same product/store. For tests and benchmarks only."""
    accounts = state.config.retailers.get(seed)
    if accounts is None:
        raise KeyError(seed)
    items: dict[str, dict[str, str]] = {}
    locations: dict[str, dict[str, str]] = {}
    for provider, account in accounts.items():
        m = state.merchant(provider, account)
        item_id, location_id = _external_ids(provider, m)
        items[provider] = {item_id(i): m.variant(i).truth for i in range(m.sizes.variants)}
        locations[provider] = {location_id(i): m.location(i).truth for i in range(m.sizes.locations)}
    return {"seed": seed, "accounts": dict(accounts), "items": items, "locations": locations}


def _external_ids(provider: str, m):
    # Imported here: the provider modules import sandbox.data, which this module's users load first.
    if provider == "square":
        from .square.objects import SquareIds

        ids = SquareIds(m)
        return ids.variation, ids.location
    if provider == "shopify":
        from .shopify.objects import legacy_id

        return (lambda i: str(legacy_id("ProductVariant", i))), (lambda i: str(legacy_id("Location", i)))
    if provider == "shipbob":
        from .shipbob.common import fulfilment_centre
        from .shipbob.objects import inventory_id

        return (lambda i: str(inventory_id(i))), (lambda i: str(fulfilment_centre(i)[0]))
    from .netsuite.tables import ITEM_ID_BASE

    return (lambda i: str(ITEM_ID_BASE + i)), (lambda i: str(i + 1))
