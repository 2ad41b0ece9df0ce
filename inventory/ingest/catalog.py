"""Locations -> ``StoreMapping`` (+ auto-created stores) and items -> ``ProductMapping`` (+ auto-matching).

The mapping row is the stored form of a provider location/item: its name, SKU, barcode and deletion flag are
upserted like any other record; the store/product choice on it belongs to ``inventory.mapping``, never to the
upsert (a staff choice survives every re-sync).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from inventory.mapping import attach_held_rows_bulk, auto_map_stores, auto_match_products
from inventory.models import InventoryLevel, Product, ProductMapping, StoreMapping
from inventory.records import Deletion, IngestCounts, Item, Location, Source

from . import values as v
from .common import in_batches, record_error
from .resolve import SECONDARY_PLACEHOLDER
from .upsert import UpsertSpec, adapt_rows, upsert

IDENTITY = ("retailer_id", "provider", "external_account_id", "external_id")
LOCATION_SPEC = UpsertSpec(
    table=StoreMapping._meta.db_table,
    columns=(*IDENTITY, "external_name", "external_address", "external_timezone", "automatically_generated",
             "deleted_at_source", "created_at", "updated_at"),
    keys=("provider", "external_account_id", "external_id"),
    updates=("external_name", "external_address", "external_timezone"),
)
ITEM_SPEC = UpsertSpec(
    table=ProductMapping._meta.db_table,
    columns=(
        *IDENTITY,
        "external_name",
        "sku",
        "barcode",
        "secondary_id",
        "parent_external_id",
        "deleted_at_source",
        "deleted_at_source_at",
        "source_updated_at",
        "automatically_generated",
        "created_at",
        "updated_at",
    ),
    keys=("provider", "external_account_id", "external_id"),
    updates=("external_name", "sku", "barcode", "secondary_id", "parent_external_id", "deleted_at_source",
             "deleted_at_source_at", "source_updated_at"),
    guard=(
        "excluded.source_updated_at IS NULL OR t.source_updated_at IS NULL "
        "OR excluded.source_updated_at >= t.source_updated_at"
    ),
)
KINDS = {"source_updated_at": "datetime", "deleted_at_source_at": "datetime", "created_at": "datetime",
         "updated_at": "datetime"}


def ingest_locations(source: Source, records: Iterable[Location]) -> IngestCounts:
    return in_batches(records, lambda chunk, counts: _locations_batch(source, chunk, counts))


def _locations_batch(source: Source, chunk: list[Location], counts: IngestCounts) -> None:
    now = timezone.now()
    entries = []
    for r in chunk:
        try:
            key = v.text(r.external_id, "location id", 255, required=True)
            entries.append(((key,), v.aware(r.updated_at, "updated_at", required=False), r))
        except v.BadRecord as error:
            record_error(counts, f"location {r.external_id!s:.40}", error)
    locations = v.newest_per_key(entries)
    rows = [
        (
            source.retailer_id,
            source.provider,
            source.external_account_id,
            r.external_id,
            (r.name or "")[:500],
            r.address or "",
            (r.timezone or "")[:64],
            True,
            False,
            now,
            now,
        )
        for r in locations
    ]
    created, updated = upsert(
        LOCATION_SPEC, adapt_rows(LOCATION_SPEC, rows, KINDS), LOCATION_SPEC.columns.index("created_at")
    )
    counts.created += created
    counts.updated += updated
    counts.unchanged += len(rows) - created - updated
    ids = dict(
        StoreMapping.objects.filter(
            provider=source.provider,
            external_account_id=source.external_account_id,
            external_id__in=[r.external_id for r in locations],
            store__isnull=True,
        ).values_list("external_id", "pk")
    )
    if ids:
        details = {r.external_id: {"timezone": r.timezone or "", "address": r.address or "", "kind": r.kind}
                   for r in locations}
        auto_map_stores(source.retailer_id, ids.values(), details)


def ingest_items(source: Source, records: Iterable[Item]) -> IngestCounts:
    return in_batches(records, lambda chunk, counts: _items_batch(source, chunk, counts))


def _items_batch(source: Source, chunk: list[Item], counts: IngestCounts) -> None:
    now = timezone.now()
    entries = []
    for r in chunk:
        try:
            key = v.text(r.external_id, "item id", 255, required=True)
            if key.startswith(SECONDARY_PLACEHOLDER):
                raise v.BadRecord("item id: reserved prefix")
            entries.append(((key,), v.aware(r.updated_at, "updated_at", required=False), r))
        except v.BadRecord as error:
            record_error(counts, f"item {r.external_id!s:.40}", error)
    items = v.newest_per_key(entries)
    rows = [
        (
            source.retailer_id,
            source.provider,
            source.external_account_id,
            r.external_id,
            (r.name or "")[:500],
            (r.sku or "")[:255],
            (r.barcode or "").strip()[:64],
            (r.secondary_id or "")[:255],
            (r.parent_external_id or "")[:255],
            bool(r.deleted),
            (r.updated_at or now) if r.deleted else None,
            r.updated_at,
            True,
            now,
            now,
        )
        for r in items
    ]
    created, updated = upsert(ITEM_SPEC, adapt_rows(ITEM_SPEC, rows, KINDS), ITEM_SPEC.columns.index("created_at"))
    counts.created += created
    counts.updated += updated
    counts.unchanged += len(rows) - created - updated

    mappings = ProductMapping.objects.filter(provider=source.provider, external_account_id=source.external_account_id)
    batch = list(
        mappings.filter(external_id__in=[r.external_id for r in items]).values_list(
            "pk", "product_id", "deleted_at_source", "secondary_id"
        )
    )
    adopted = _adopt_placeholders(mappings, {secondary: pk for pk, _, _, secondary in batch if secondary})
    unmapped = [pk for pk, product, deleted, _ in batch if product is None and not deleted]
    mapped = set(auto_match_products(source.retailer_id, unmapped))
    attach_held_rows_bulk(ProductMapping, adopted)
    counts.held += sum(1 for pk, product, deleted, _ in batch if product is None and not deleted and pk not in mapped)
    _deactivate_products_deleted_everywhere({product for _, product, deleted, _ in batch if deleted and product})


def _adopt_placeholders(mappings, real_by_secondary: dict[str, int]) -> list[int]:
    """Stock seen by a secondary id before its item: move those levels onto the item's own mapping (keeping the
    item's level where it already has one) and drop the placeholder."""
    if not real_by_secondary:
        return []
    adopted = []
    placeholders = mappings.filter(
        external_id__in=[f"{SECONDARY_PLACEHOLDER}{s}" for s in real_by_secondary]
    ).values_list("pk", "secondary_id")
    for placeholder_id, secondary in placeholders:
        real_id = real_by_secondary[secondary]
        taken = InventoryLevel.objects.filter(product_mapping_id=real_id).values("store_mapping_id")
        InventoryLevel.objects.filter(product_mapping_id=placeholder_id).exclude(store_mapping_id__in=taken).update(
            product_mapping_id=real_id, product_id=None, updated_at=timezone.now()
        )
        ProductMapping.objects.filter(pk=placeholder_id).delete()  # cascades to the levels it still had
        adopted.append(real_id)
    return adopted


def _deactivate_products_deleted_everywhere(product_ids: set[int]) -> None:
    """An item deleted at the provider retires its product once no live mapping of any provider still sells it."""
    if product_ids:
        Product.objects.filter(pk__in=product_ids, is_active=True).exclude(mappings__deleted_at_source=False).update(
            is_active=False, updated_at=timezone.now()
        )


def mark_deleted_at_source(source: Source, *, parent_external_ids: Iterable[str], at=None) -> IngestCounts:
    """A provider deleted parents (Shopify products) and names only them: every item under them is marked deleted
    at source, with when. Rows are kept (history, levels and sales stay); already-deleted rows are unchanged, so a
    redelivery writes nothing."""
    counts = IngestCounts()
    parents = sorted({str(p) for p in parent_external_ids if p})
    if not parents:
        return counts
    now = timezone.now()
    rows = ProductMapping.objects.filter(provider=source.provider, external_account_id=source.external_account_id,
                                         parent_external_id__in=parents)
    with transaction.atomic():
        hit = list(rows.filter(deleted_at_source=False).values_list("pk", "product_id"))
        # The deletion also moves the item's source time forward, so an older update of it that is processed later
        # (webhooks arrive in any order; batches run side by side) cannot bring it back.
        deleted_at = Value(at or now, output_field=DateTimeField())
        rows.filter(pk__in=[pk for pk, _ in hit]).update(
            deleted_at_source=True, deleted_at_source_at=at or now, updated_at=now,
            source_updated_at=Greatest(Coalesce(F("source_updated_at"), deleted_at), deleted_at))
        _deactivate_products_deleted_everywhere({product for _, product in hit if product})
    counts.updated = len(hit)
    counts.unchanged = rows.count() - len(hit)
    return counts


def ingest_deletions(source: Source, records: Iterable[Deletion]) -> IngestCounts:
    """Deleted items and locations named by id, each with its deletion time: their mappings are marked deleted at
    source with when (rows, levels and sales kept; nothing hard-deleted). Already-deleted rows are unchanged, so a
    re-read writes nothing; an id never seen is counted unchanged (nothing to mark). An item's source time moves
    to the deletion, so an older update processed later cannot bring it back."""
    counts = IngestCounts()
    wanted: dict[tuple[str, str], Deletion] = {}
    for r in records:
        if r.kind not in ("item", "location") or not str(r.external_id or "").strip():
            record_error(counts, f"deletion {r.kind}:{r.external_id!s:.40}", v.BadRecord("kind or id missing"))
            continue
        wanted[(r.kind, str(r.external_id))] = r
    now = timezone.now()
    with transaction.atomic():
        for kind, model in (("item", ProductMapping), ("location", StoreMapping)):
            by_time: dict = {}
            for (k, external_id), r in wanted.items():
                if k == kind:
                    by_time.setdefault(r.deleted_at or now, []).append(external_id)
            retired = set()
            for at, ids in by_time.items():
                rows = model.objects.filter(provider=source.provider, external_account_id=source.external_account_id,
                                            external_id__in=ids)
                hit = list(rows.filter(deleted_at_source=False).values_list("pk", flat=True))
                changes = {"deleted_at_source": True, "deleted_at_source_at": at, "updated_at": now}
                if model is ProductMapping:
                    stamp = Value(at, output_field=DateTimeField())
                    changes["source_updated_at"] = Greatest(Coalesce(F("source_updated_at"), stamp), stamp)
                    retired |= set(model.objects.filter(pk__in=hit).exclude(product=None)
                                   .values_list("product_id", flat=True))
                model.objects.filter(pk__in=hit).update(**changes)
                counts.updated += len(hit)
                counts.unchanged += len(ids) - len(hit)
            if retired:
                _deactivate_products_deleted_everywhere(retired)
    return counts
