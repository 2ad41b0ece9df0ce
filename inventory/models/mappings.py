"""Mapping tables: a provider's id within one external account -> our store or product.

A mapping row exists as soon as a provider id is seen, even before it resolves to a store/product; such an
"unmapped" row is what staff resolve in admin, and transactions and levels held for it attach once it is mapped.
``automatically_generated`` marks rows the matcher may change; a manual choice is never overwritten.
"""

from django.db import models

from .catalog import Product, Store
from .retailer import Retailer


class ExternalMapping(models.Model):
    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=32)
    external_account_id = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255)
    external_name = models.CharField(max_length=500, blank=True)
    automatically_generated = models.BooleanField(default=True)
    deleted_at_source = models.BooleanField(default=False)
    # The matcher's (or a person's) decision: how sure, and on what evidence (inventory.matching).
    match_confidence = models.FloatField(null=True, blank=True)
    match_reason = models.CharField(max_length=255, blank=True, default="", db_default="")
    # Weak or conflicting evidence is never merged silently: it becomes a suggestion a person accepts or rejects.
    suggestion_confidence = models.FloatField(null=True, blank=True)
    suggestion_reason = models.CharField(max_length=255, blank=True, default="", db_default="")
    # When the provider deleted it (its own timestamp for the deletion, else when we learned of it); null while it
    # exists. Nothing is hard-deleted: the row, its levels and its sales stay.
    deleted_at_source_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class StoreMapping(ExternalMapping):
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="mappings")
    suggested_store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggested_mappings"
    )
    # What the provider says about the location: the evidence a person compares with the suggested store.
    external_address = models.TextField(blank=True, default="", db_default="")
    external_timezone = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_account_id", "external_id"], name="uniq_store_mapping_external"
            )
        ]
        indexes = [
            models.Index(fields=["retailer", "store"], name="storemap_retailer_store"),
            # The admin dashboard's "locations waiting for matching": a small index over the unmapped rows only.
            models.Index(fields=["retailer"], condition=models.Q(store__isnull=True, deleted_at_source=False),
                         name="storemap_waiting"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_id} -> {self.store or 'unmapped'}"

    @property
    def is_mapped(self) -> bool:
        return self.store_id is not None


class ProductMapping(ExternalMapping):
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="mappings"
    )
    suggested_product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggested_mappings"
    )
    sku = models.CharField(max_length=255, blank=True)
    barcode = models.CharField(max_length=64, blank=True)
    # Provider-specific secondary ids, e.g. Shopify's inventory item id behind a variant.
    secondary_id = models.CharField(max_length=255, blank=True, db_index=True)
    # The provider's parent (a Shopify variant's product): its delete event names only the parent.
    parent_external_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    source_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_account_id", "external_id"], name="uniq_product_mapping_external"
            )
        ]
        indexes = [
            models.Index(fields=["retailer", "product"], name="prodmap_retailer_product"),
            models.Index(fields=["provider", "external_account_id", "secondary_id"], name="prodmap_secondary"),
            # The admin dashboard's "items waiting for matching": a small index over the unmapped rows only.
            models.Index(fields=["retailer"], condition=models.Q(product__isnull=True, deleted_at_source=False),
                         name="prodmap_waiting"),
            models.Index(fields=["provider", "external_account_id", "parent_external_id"], name="prodmap_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_id} -> {self.product or 'unmapped'}"

    @property
    def is_mapped(self) -> bool:
        return self.product_id is not None
