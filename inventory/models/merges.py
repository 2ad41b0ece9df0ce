"""A recorded merge of two products or two stores a person found to be one (and its undo).

Sales lines and stock levels follow their mappings, so a merge only moves mappings (and suggestions) from the
merged row to the kept one and re-attaches; the record lists exactly what moved, which is what undo moves back.
The merged row is deactivated, not deleted, so undo restores it as it was.
"""

from django.db import models

from .retailer import Retailer


class CatalogMerge(models.Model):
    class Kind(models.TextChoices):
        PRODUCT = "product"
        STORE = "store"

    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    kept_id = models.BigIntegerField()
    merged_id = models.BigIntegerField()
    merged_name = models.CharField(max_length=500, blank=True)
    merged_was_active = models.BooleanField(default=True)
    moved_mapping_ids = models.JSONField(default=list)
    moved_suggestion_ids = models.JSONField(default=list)
    rows_moved = models.IntegerField(default=0)
    merged_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["retailer", "kind", "created_at"], name="merge_retailer_kind")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.merged_id} -> #{self.kept_id}" + (" (undone)" if self.undone_at else "")
