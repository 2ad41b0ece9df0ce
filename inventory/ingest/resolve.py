"""Resolve provider ids to mapping rows for a batch: one query for the ids not yet known in this call, and an
insert of unmapped ("held") mapping rows for ids never seen, so no record is dropped for lack of a mapping."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from inventory.models import ProductMapping, StoreMapping
from inventory.records import Source

# Prefix of the placeholder mapping for an item known only by its secondary id (a Shopify inventory item seen in
# a stock update before its variant); ``ingest_items`` merges it into the variant's mapping when that arrives.
SECONDARY_PLACEHOLDER = "secondary:"
_CHUNK = 5000


class MappingResolver:
    """Caches external id -> (mapping id, store/product id) for one ingest call. Store/product ids can go stale
    only within the call; rows stored held meanwhile are attached by the batch's final re-attach."""

    def __init__(self, source: Source):
        self.source = source
        self.stores: dict[str, tuple[int, int | None]] = {}
        self.products: dict[str, tuple[int, int | None]] = {}
        self.secondary: dict[str, tuple[int, int | None]] = {}

    def _scope(self, model):
        return model.objects.filter(provider=self.source.provider, external_account_id=self.source.external_account_id)

    def resolve_stores(self, external_ids: set[str]) -> dict[str, tuple[int, int | None]]:
        missing = sorted(external_ids - self.stores.keys())
        if missing:
            self._load(StoreMapping, "store", "external_id", missing, self.stores)
            unseen = [e for e in missing if e not in self.stores]
            if unseen:
                self._create(StoreMapping, [{"external_id": e} for e in unseen])
                self._load(StoreMapping, "store", "external_id", unseen, self.stores)
        return self.stores

    def resolve_products(self, wanted: dict[str, str]) -> dict[str, tuple[int, int | None]]:
        """``wanted``: external id -> SKU seen with it (kept on a new held mapping, so matching can use it)."""
        missing = sorted(wanted.keys() - self.products.keys())
        if missing:
            self._load(ProductMapping, "product", "external_id", missing, self.products)
            unseen = [e for e in missing if e not in self.products]
            if unseen:
                self._create(ProductMapping, [{"external_id": e, "sku": wanted[e][:255]} for e in unseen])
                self._load(ProductMapping, "product", "external_id", unseen, self.products)
        return self.products

    def resolve_secondary(self, secondary_ids: set[str]) -> dict[str, tuple[int, int | None]]:
        missing = sorted(secondary_ids - self.secondary.keys())
        if missing:
            self._load(ProductMapping, "product", "secondary_id", missing, self.secondary)
            unseen = [s for s in missing if s not in self.secondary]
            if unseen:
                self._create(
                    ProductMapping,
                    [{"external_id": f"{SECONDARY_PLACEHOLDER}{s}", "secondary_id": s} for s in unseen],
                )
                self._load(ProductMapping, "product", "secondary_id", unseen, self.secondary)
        return self.secondary

    def _rows(self, model, target: str, key: str, ids: list[str]):
        if connection.vendor == "postgresql":
            # One array parameter: the ORM's IN list binds (and the client-side cursor renders and re-parses) one
            # placeholder per id, which for a sync page's ~2,000 items cost several times the query itself.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {key}, {target}_id, external_id FROM {model._meta.db_table} "
                    f"WHERE provider = %s AND external_account_id = %s AND {key} = ANY(%s::text[])",
                    [self.source.provider, self.source.external_account_id, ids],
                )
                return cursor.fetchall()
        return self._scope(model).filter(**{f"{key}__in": ids}).values_list("pk", key, f"{target}_id", "external_id")

    def _load(self, model, target: str, key: str, ids: list[str], into: dict) -> None:
        for start in range(0, len(ids), _CHUNK):
            rows = self._rows(model, target, key, ids[start : start + _CHUNK])
            # A secondary id can briefly have both a placeholder and the real mapping: the real one wins.
            for pk, external_key, target_id, external_id in rows:
                if key == "secondary_id" and external_key in into and external_id.startswith(SECONDARY_PLACEHOLDER):
                    continue
                into[external_key] = (pk, target_id)

    def _create(self, model, rows: list[dict]) -> None:
        """Insert held mapping rows; a concurrent ingest may insert the same ids first (ignored, then re-read)."""
        now = timezone.now()
        model.objects.bulk_create(
            [
                model(
                    retailer_id=self.source.retailer_id,
                    provider=self.source.provider,
                    external_account_id=self.source.external_account_id,
                    created_at=now,
                    updated_at=now,
                    **row,
                )
                for row in sorted(rows, key=lambda r: r["external_id"])
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
