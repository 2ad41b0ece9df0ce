"""Merging two products or two stores from their admin lists, and the merge history with undo."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction

from audit import actions as audit_actions
from audit import record as audit
from inventory.matching.merge import MergeRefused, merge, undo
from inventory.models import CatalogMerge


@admin.action(description="Merge the two selected (the older one is kept)")
def merge_two(modeladmin, request, queryset):
    rows = list(queryset.order_by("pk")[:3])
    if len(rows) != 2:
        modeladmin.message_user(request, "Select exactly two to merge.", messages.ERROR)
        return
    kept, merged = rows
    try:
        with transaction.atomic():
            record = merge(kept, merged, who=str(request.user))
            audit(audit_actions.CATALOG_MERGE, request=request, retailer=kept.retailer, kind=record.kind,
                  kept=kept.pk, merged=merged.pk, merge=record.pk, rows_moved=record.rows_moved)
    except MergeRefused as error:
        audit(audit_actions.CATALOG_MERGE, request=request, retailer=kept.retailer, outcome="failure",
              kept=kept.pk, merged=merged.pk, error=str(error))
        modeladmin.message_user(request, f"Not merged: {error}.", messages.ERROR)
        return
    modeladmin.message_user(
        request,
        f"Merged {merged} into {kept}: {len(record.moved_mapping_ids)} mapping(s) and {record.rows_moved} "
        f"sales/stock row(s) moved. Undo it from Catalog merges.",
        messages.SUCCESS,
    )


@admin.register(CatalogMerge)
class CatalogMergeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "retailer", "merged_name", "rows_moved", "merged_by", "created_at",
                    "undone_at"]
    list_filter = ["kind", "retailer"]
    readonly_fields = [f.name for f in CatalogMerge._meta.fields]
    actions = ["undo_merges"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Undo the selected merges")
    def undo_merges(self, request, queryset):
        for record in queryset.filter(undone_at__isnull=True):
            try:
                with transaction.atomic():
                    rows = undo(record)
                    audit(audit_actions.CATALOG_MERGE_UNDO, request=request, retailer=record.retailer,
                          merge=record.pk, rows_moved=rows)
            except MergeRefused as error:
                audit(audit_actions.CATALOG_MERGE_UNDO, request=request, retailer=record.retailer,
                      outcome="failure", merge=record.pk, error=str(error))
                self.message_user(request, f"{record}: not undone: {error}.", messages.ERROR)
                continue
            self.message_user(request, f"{record}: undone, {rows} sales/stock row(s) moved back.", messages.SUCCESS)
