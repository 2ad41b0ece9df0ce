"""Merge two products or two stores a person found to be the same one, and undo such a merge.

Only mappings (and pending suggestions) move: every sales line and stock level follows its mapping
(``attach_held_rows``), so re-attaching the moved mappings moves exactly their rows, and undo is the same move
backwards. Mappings keep their ``automatically_generated`` flag: a merge changes which row is the product, not
who decided the mapping.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.mapping import reattach_bulk
from inventory.models import CatalogMerge, Product, ProductMapping, Store, StoreMapping

MODELS = {"product": (Product, ProductMapping), "store": (Store, StoreMapping)}


class MergeRefused(ValueError):
    pass


def merge(kept: Product | Store, merged: Product | Store, *, who: str = "") -> CatalogMerge:
    kind = "product" if isinstance(kept, Product) else "store"
    target_model, mapping_model = MODELS[kind]
    if not isinstance(merged, target_model):
        raise MergeRefused("only two products or two stores can be merged")
    if kept.pk == merged.pk:
        raise MergeRefused(f"a {kind} cannot be merged into itself")
    if kept.retailer_id != merged.retailer_id:
        raise MergeRefused(f"the two {kind}s belong to different retailers")
    with transaction.atomic():
        target_model.objects.select_for_update().filter(pk__in=[kept.pk, merged.pk]).order_by("pk").exists()
        mappings = mapping_model.objects.filter(**{kind: merged})
        suggestions = mapping_model.objects.filter(**{f"suggested_{kind}": merged})
        moved = sorted(mappings.values_list("pk", flat=True))
        suggested = sorted(suggestions.values_list("pk", flat=True))
        now = timezone.now()
        mappings.update(**{kind: kept}, updated_at=now)
        suggestions.update(**{f"suggested_{kind}": kept}, updated_at=now)
        rows = reattach_bulk(mapping_model, moved)
        record = CatalogMerge.objects.create(
            retailer_id=kept.retailer_id, kind=kind, kept_id=kept.pk, merged_id=merged.pk,
            merged_name=str(merged)[:500], merged_was_active=merged.is_active, moved_mapping_ids=moved,
            moved_suggestion_ids=suggested, rows_moved=rows, merged_by=who[:150],
        )
        target_model.objects.filter(pk=merged.pk).update(is_active=False, updated_at=now)
    return record


def undo(record: CatalogMerge) -> int:
    """Move back what the merge moved (mappings still pointing at the kept row) and reactivate the merged row.
    Returns the sales lines and stock levels moved back."""
    target_model, mapping_model = MODELS[record.kind]
    kind = record.kind
    with transaction.atomic():
        record = CatalogMerge.objects.select_for_update().get(pk=record.pk)
        if record.undone_at is not None:
            raise MergeRefused("this merge was already undone")
        if not target_model.objects.filter(pk=record.merged_id).exists():
            raise MergeRefused(f"the merged {kind} no longer exists")
        now = timezone.now()
        # Mappings a person re-pointed since the merge stay where that person put them.
        mappings = mapping_model.objects.filter(pk__in=record.moved_mapping_ids, **{f"{kind}_id": record.kept_id})
        back = list(mappings.values_list("pk", flat=True))
        mappings.update(**{f"{kind}_id": record.merged_id}, updated_at=now)
        mapping_model.objects.filter(pk__in=record.moved_suggestion_ids,
                                     **{f"suggested_{kind}_id": record.kept_id}).update(
            **{f"suggested_{kind}_id": record.merged_id}, updated_at=now)
        rows = reattach_bulk(mapping_model, back)
        target_model.objects.filter(pk=record.merged_id).update(is_active=record.merged_was_active, updated_at=now)
        record.undone_at = now
        record.save(update_fields=["undone_at"])
    return rows
