"""Merging two products or two stores from their admin lists, and the merge history with undo."""

from __future__ import annotations

from django.contrib import admin, messages

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
        record = merge(kept, merged, who=str(request.user))
    except MergeRefused as error:
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
                rows = undo(record)
            except MergeRefused as error:
                self.message_user(request, f"{record}: not undone: {error}.", messages.ERROR)
                continue
            self.message_user(request, f"{record}: undone, {rows} sales/stock row(s) moved back.", messages.SUCCESS)
