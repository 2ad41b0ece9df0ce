from django.db import models

from .retailer import Retailer


class Store(models.Model):
    """A physical or virtual selling location of a retailer (one store may be fed by several providers)."""

    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="stores")
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=64, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["retailer", "name"]
        indexes = [models.Index(fields=["retailer", "updated_at", "id"], name="store_retailer_updated")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A sellable product of a retailer, matched across providers by barcode (GTIN/UPC), then SKU."""

    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=255, blank=True)
    barcode = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=500)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["retailer", "name"]
        indexes = [
            models.Index(fields=["retailer", "sku"], name="product_retailer_sku"),
            models.Index(fields=["retailer", "barcode"], name="product_retailer_barcode"),
            models.Index(fields=["retailer", "updated_at", "id"], name="product_retailer_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku or self.barcode or self.pk})"
