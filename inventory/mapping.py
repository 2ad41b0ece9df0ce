"""Mapping services: auto-map provider locations to stores and items to products, and attach held rows.

Rules (README "Ingest and mappings"):
- A location maps to the store at its address (``inventory.matching.stores``); a location at a new address gets a
  new store named after it.
- An item maps to a product of the same retailer by GTIN (validated, any format), then normalised SKU, names in
  support (``inventory.matching.products``). Weak or conflicting evidence leaves the mapping unmapped with a
  suggestion for a person. No candidate: a product is created from the item (the retailer's first provider is
  usually its product master), unless ``INVENTORY_AUTO_CREATE_PRODUCTS`` is False or the item has neither barcode
  nor SKU (nothing another provider could ever match it by).
- Only rows with ``automatically_generated=True`` are touched by matching; a staff choice is never overwritten.
- Sales lines and stock levels reference the mapping, so they are stored even while it is unmapped ("held");
  ``attach_held_rows`` copies the mapping's store/product onto them whenever the mapping changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory.matching import match_products, match_stores
from inventory.models import InventoryLevel, Product, ProductMapping, Store, StoreMapping, Transaction

_LOCK_CLASS = 0x5E1F  # advisory-lock namespace for "matching/creating for this retailer"
_CHUNK = 5000


def _lock_retailer(retailer_id: int) -> None:
    """Serialise store/product creation per retailer, so two workers ingesting the same new item create one
    product, not two (Product has no unique key: real catalogues do share barcodes). SQLite already
    serialises writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, retailer_id % 2**31])


def auto_create_products() -> bool:
    return getattr(settings, "INVENTORY_AUTO_CREATE_PRODUCTS", True)


# --- attaching held rows ---------------------------------------------------------------------------------


def attach_held_rows(mapping: StoreMapping | ProductMapping) -> int:
    """Make the transactions and levels stored under ``mapping`` point at its current store/product (attach
    held rows after it is mapped, follow a remap, detach on unmap). Call after saving a mapping; returns rows
    changed."""
    model = type(mapping)
    return _attach(model, [mapping.pk], only_held=False)


def attach_held_rows_bulk(model: type[StoreMapping] | type[ProductMapping], mapping_ids: Iterable[int]) -> int:
    ids = list(mapping_ids)
    target = "store" if model is StoreMapping else "product"
    # Most calls come from ingest with mappings still unmapped: ask the small mapping table first, so the big
    # tables are only scanned for mappings that actually have something to attach to.
    mapped = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        if connection.vendor == "postgresql":  # one array parameter, not a placeholder per id
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {model._meta.db_table} WHERE id = ANY(%s::bigint[]) "
                               f"AND {target}_id IS NOT NULL", [chunk])
                mapped += [row[0] for row in cursor.fetchall()]
            continue
        mapped += model.objects.filter(pk__in=chunk, **{f"{target}__isnull": False}).values_list("pk", flat=True)
    ids = mapped
    changed = 0
    for start in range(0, len(ids), _CHUNK):
        changed += _attach(model, ids[start : start + _CHUNK], only_held=True)
    return changed


def reattach_bulk(model, mapping_ids: Iterable[int]) -> int:
    """Make every row stored under these mappings follow the mapping's current target (after a merge/undo)."""
    ids = sorted(mapping_ids)
    return sum(_attach(model, ids[start : start + _CHUNK], only_held=False) for start in range(0, len(ids), _CHUNK))


def _attach(model, mapping_ids: Sequence[int], *, only_held: bool) -> int:
    """One UPDATE per table: each row takes its mapping's current target, and only rows that differ are written
    (so attaching twice changes nothing the second time, and ``updated_at`` stays honest)."""
    if not mapping_ids:
        return 0
    target = "store" if model is StoreMapping else "product"
    placeholders = ", ".join(["%s"] * len(mapping_ids))
    now_value = connection.ops.adapt_datetimefield_value(timezone.now())
    changed = 0
    with connection.cursor() as cursor:
        for row_model in (Transaction, InventoryLevel):
            table = row_model._meta.db_table
            current = f"(SELECT m.{target}_id FROM {model._meta.db_table} m WHERE m.id = {table}.{target}_mapping_id)"
            if only_held:
                which = f"{target}_id IS NULL AND {current} IS NOT NULL"
            else:
                which = f"{target}_id IS DISTINCT FROM {current}"
            cursor.execute(
                f"UPDATE {table} SET {target}_id = {current}, updated_at = %s "
                f"WHERE {target}_mapping_id IN ({placeholders}) AND {which}",
                [now_value, *mapping_ids],
            )
            changed += cursor.rowcount
    return changed


# --- locations -> stores ---------------------------------------------------------------------------------


def auto_map_stores(retailer_id: int, mapping_ids: Iterable[int], details: dict[str, dict] | None = None) -> list[int]:
    """Match unmapped, automatic StoreMappings to the retailer's stores by address (``inventory.matching``), or
    give each a new store named after its location; returns the ids mapped. ``details``: external id ->
    timezone/address."""
    with transaction.atomic():
        _lock_retailer(retailer_id)
        pending = list(
            StoreMapping.objects.filter(pk__in=list(mapping_ids), store__isnull=True, automatically_generated=True)
            .order_by("pk")
            .values_list("pk", "external_id", "external_name", "provider", "external_account_id")
        )
        if not pending:
            return []
        mapped = match_stores(retailer_id, pending, details or {})
    attach_held_rows_bulk(StoreMapping, mapped)
    return mapped


# --- items -> products -----------------------------------------------------------------------------------


def auto_match_products(
    retailer_id: int, mapping_ids: Iterable[int], *, create_missing: bool | None = None
) -> list[int]:
    """Match unmapped, automatic ProductMappings to the retailer's products by evidence (``inventory.matching``:
    GTIN, SKU, names in support; one indexed query per key kind for the batch); weak or conflicting evidence
    becomes a suggestion; items nothing matches get new products. Returns the ids mapped."""
    if create_missing is None:
        create_missing = auto_create_products()
    with transaction.atomic():
        _lock_retailer(retailer_id)
        # Read after taking the lock: another worker may have mapped these meanwhile.
        pending = _pending_items(list(mapping_ids))
        if not pending:
            return []
        mapped = match_products(retailer_id, pending, create_missing=create_missing)
    attach_held_rows_bulk(ProductMapping, mapped)
    return mapped


# --- staff choices -----------------------------------------------------------------------------------------


MANUAL_FIELDS = ("match_confidence", "match_reason", "suggestion_confidence", "suggestion_reason")


def _record_manual(mapping, reason: str, mapped: bool) -> None:
    """A person's decision is certain by definition; any pending suggestion is settled by it."""
    mapping.match_confidence = 1.0 if mapped else None
    mapping.match_reason = (reason or "chosen by a person")[:255]
    mapping.suggestion_confidence = None
    mapping.suggestion_reason = ""
    if isinstance(mapping, ProductMapping):
        mapping.suggested_product = None
    else:
        mapping.suggested_store = None


def _pending_items(ids: list[int]) -> list[tuple]:
    """Unmapped, automatic, live item mappings among ``ids``: (pk, barcode, sku, name)."""
    if connection.vendor == "postgresql":
        # One array parameter: an IN list of a sync page's ~2,000 ids is slower to render and parse than to run.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, barcode, sku, external_name FROM {ProductMapping._meta.db_table} "
                "WHERE id = ANY(%s::bigint[]) AND product_id IS NULL AND automatically_generated "
                "AND NOT deleted_at_source ORDER BY id",
                [ids],
            )
            return cursor.fetchall()
    return list(
        ProductMapping.objects.filter(
            pk__in=ids, product__isnull=True, automatically_generated=True, deleted_at_source=False
        )
        .order_by("pk")
        .values_list("pk", "barcode", "sku", "external_name")
    )


def map_product(mapping: ProductMapping, product: Product | None, *, reason: str = "") -> int:
    """A staff (or API client) choice: pin the mapping to ``product`` (None unmaps), mark it manual so
    matching never changes it, and attach the rows held for it. Returns rows attached/changed."""
    if product is not None and product.retailer_id != mapping.retailer_id:
        raise ValueError("the product belongs to another retailer")
    with transaction.atomic():
        mapping.product = product
        mapping.automatically_generated = False
        _record_manual(mapping, reason, product is not None)
        mapping.save(update_fields=["product", "automatically_generated", "updated_at", *MANUAL_FIELDS,
                                    "suggested_product"])
        return attach_held_rows(mapping)


def map_store(mapping: StoreMapping, store: Store | None, *, reason: str = "") -> int:
    if store is not None and store.retailer_id != mapping.retailer_id:
        raise ValueError("the store belongs to another retailer")
    with transaction.atomic():
        mapping.store = store
        mapping.automatically_generated = False
        _record_manual(mapping, reason, store is not None)
        mapping.save(update_fields=["store", "automatically_generated", "updated_at", *MANUAL_FIELDS,
                                    "suggested_store"])
        return attach_held_rows(mapping)


def create_products_for(mappings: Iterable[ProductMapping]) -> int:
    """Staff's bulk "create products for selected": one new product per unmapped mapping, from its name, SKU and
    barcode. Returns the number created."""
    created = 0
    with transaction.atomic():
        for mapping in mappings:
            if mapping.product_id is not None:
                continue
            product = Product.objects.create(
                retailer_id=mapping.retailer_id,
                sku=mapping.sku,
                barcode=mapping.barcode,
                name=(mapping.external_name or mapping.sku or mapping.barcode or mapping.external_id)[:500],
            )
            map_product(mapping, product)
            created += 1
    return created


def create_stores_for(mappings: Iterable[StoreMapping]) -> int:
    created = 0
    with transaction.atomic():
        for mapping in mappings:
            if mapping.store_id is not None:
                continue
            store = Store.objects.create(
                retailer_id=mapping.retailer_id, name=(mapping.external_name or mapping.external_id)[:255]
            )
            map_store(mapping, store)
            created += 1
    return created
