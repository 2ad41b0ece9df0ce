from django.db import models

from .retailer import Retailer


class Store(models.Model):
    """A physical or virtual selling location of a retailer (one store may be fed by several providers)."""

    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="stores")
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=64, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    address = models.TextField(blank=True)

    class Kind(models.TextChoices):
        STORE = "store", "Store"
        WAREHOUSE = "warehouse", "Warehouse"

    # A warehouse (a WMS fulfilment centre) holds stock but sells nothing over a counter.
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STORE, db_default=Kind.STORE)
    # inventory.matching.keys.address_key(address): the index stores are matched by across systems.
    address_key = models.CharField(max_length=255, blank=True, editable=False, default="", db_default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["retailer", "name"]
        indexes = [
            models.Index(fields=["retailer", "updated_at", "id"], name="store_retailer_updated"),
            models.Index(fields=["retailer", "address_key"], name="store_retailer_address_key"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        from inventory.matching.keys import address_key

        self.address_key = address_key(self.address)
        if kwargs.get("update_fields") is not None and "address" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "address_key"}
        super().save(*args, **kwargs)

    @property
    def known(self) -> list:
        """This store's mappings: the locations of each system it is known as (inventory.matching)."""
        from inventory.matching.provenance import known_for

        return known_for(self)

    @property
    def awaiting(self) -> list:
        """Records of other systems suggested as this store, waiting for a person (inventory.matching)."""
        from inventory.matching.provenance import awaiting_for

        return awaiting_for(self)


class Product(models.Model):
    """A sellable product of a retailer, matched across providers by barcode (GTIN/UPC), then SKU."""

    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=255, blank=True)
    barcode = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=500)
    # inventory.matching.keys: normalised SKU and GTIN-14 (or "X:<code>"), the indexes products are matched by.
    sku_key = models.CharField(max_length=255, blank=True, editable=False, default="", db_default="")
    barcode_key = models.CharField(max_length=64, blank=True, editable=False, default="", db_default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["retailer", "name"]
        indexes = [
            models.Index(fields=["retailer", "sku_key"], name="product_retailer_sku_key"),
            models.Index(fields=["retailer", "barcode_key"], name="product_retailer_barcode_key"),
            models.Index(fields=["retailer", "sku"], name="product_retailer_sku"),
            models.Index(fields=["retailer", "barcode"], name="product_retailer_barcode"),
            models.Index(fields=["retailer", "updated_at", "id"], name="product_retailer_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku or self.barcode or self.pk})"

    def save(self, *args, **kwargs):
        from inventory.matching.keys import barcode_key, sku_key

        self.sku_key, self.barcode_key = sku_key(self.sku), barcode_key(self.barcode)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "sku_key", "barcode_key"}
        super().save(*args, **kwargs)

    @property
    def known(self) -> list:
        """This product's mappings: the items of each system it is known as (inventory.matching)."""
        from inventory.matching.provenance import known_for

        return known_for(self)

    @property
    def awaiting(self) -> list:
        """Items of other systems suggested as this product, waiting for a person (inventory.matching)."""
        from inventory.matching.provenance import awaiting_for

        return awaiting_for(self)
