"""Which systems a product/store is known in, and which records of other systems wait for a person to confirm
it (with the sales lines and stock levels held for them): for the API, the portal and admin."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from inventory.models import InventoryLevel, ProductMapping, StoreMapping, Transaction


def _held(row_model, target: str):
    count = (
        row_model.objects.filter(**{f"{target}_mapping": OuterRef("pk")})
        .order_by()
        .values(f"{target}_mapping")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def _model(target: str):
    return ProductMapping if target == "product" else StoreMapping


def known_mappings(target: str):
    return _model(target).objects.only(
        "pk", target, "provider", "external_account_id", "external_id", "external_name", "match_confidence",
        "match_reason", "automatically_generated", "deleted_at_source",
    ).order_by("provider", "external_account_id", "external_id")


def awaiting_mappings(target: str):
    """Unmapped live mappings, with ``held_sales_lines`` / ``held_stock_levels`` annotated."""
    return (
        _model(target).objects.filter(**{f"{target}__isnull": True}, deleted_at_source=False)
        .annotate(held_sales_lines=_held(Transaction, target), held_stock_levels=_held(InventoryLevel, target))
        .order_by("provider", "external_account_id", "external_id")
    )


def known_for(obj) -> list:
    """The mappings the object is known by: the prefetched list when there is one (API pages), else one query."""
    prefetched = obj.__dict__.get("known_prefetched")
    if prefetched is not None:
        return prefetched
    target = "product" if obj._meta.model_name == "product" else "store"
    return list(known_mappings(target).filter(**{target: obj}))


def awaiting_for(obj) -> list:
    """The prefetched list when there is one (API pages), else one query."""
    prefetched = obj.__dict__.get("awaiting_prefetched")
    if prefetched is not None:
        return prefetched
    target = "product" if obj._meta.model_name == "product" else "store"
    return list(awaiting_mappings(target).filter(**{f"suggested_{target}": obj}))
