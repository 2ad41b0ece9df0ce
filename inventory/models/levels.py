from django.db import models

from .catalog import Product, Store
from .mappings import ProductMapping, StoreMapping
from .retailer import Retailer

QUANTITY = {"max_digits": 18, "decimal_places": 4, "null": True, "blank": True}


class InventoryLevel(models.Model):
    """Stock of one provider item at one provider location, keyed by the provider's ids (the mappings), so a
    re-sync updates the row in place. ``store``/``product`` are filled once the mappings resolve."""

    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="inventory_levels")
    store_mapping = models.ForeignKey(StoreMapping, on_delete=models.CASCADE, related_name="levels")
    product_mapping = models.ForeignKey(ProductMapping, on_delete=models.CASCADE, related_name="levels")
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="levels")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="levels"
    )
    source = models.CharField(max_length=32, help_text="Provider key the level came from.")
    available = models.DecimalField(**QUANTITY)
    on_hand = models.DecimalField(**QUANTITY)
    committed = models.DecimalField(**QUANTITY)
    incoming = models.DecimalField(**QUANTITY)
    as_of = models.DateTimeField(help_text="When the provider computed these quantities.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store_mapping", "product_mapping"], name="uniq_level_per_mapping")
        ]
        indexes = [
            models.Index(fields=["retailer", "store", "product"], name="level_retailer_store_product"),
            # Serves the API's ?product= filter without a store (the index above needs the store first).
            models.Index(fields=["retailer", "product", "id"], name="level_retailer_product"),
            models.Index(fields=["retailer", "as_of", "id"], name="level_retailer_asof"),
            models.Index(fields=["retailer", "updated_at", "id"], name="level_retailer_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.store_id}: {self.available}"
