from django.db import models

from .catalog import Product, Store
from .mappings import ProductMapping, StoreMapping
from .retailer import Retailer


class Transaction(models.Model):
    """One sold line of an order. Unique on (source, account, order id, line id): a line is stored once, and
    an order edit or cancellation updates it in place."""

    class State(models.TextChoices):
        OPEN = "open"
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        REFUNDED = "refunded"

    # No single-column index on retailer: every composite index below leads with it.
    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="transactions", db_index=False)
    # store/product are denormalized from the mappings (for the API's filters and joins), which keep their foreign
    # keys. No database constraint on these two: each is a deferred check per inserted row at COMMIT, about a fifth
    # of a sync page's commit. Django still applies SET_NULL when a store or product is deleted (in Python, through
    # the indexes kept below); mapping changes re-point the rows (inventory.mapping).
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions", db_constraint=False
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions", db_constraint=False
    )
    store_mapping = models.ForeignKey(
        StoreMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    product_mapping = models.ForeignKey(
        ProductMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    source = models.CharField(max_length=32, help_text="Provider key the line came from.")
    external_account_id = models.CharField(max_length=255)
    external_order_id = models.CharField(max_length=255)
    external_line_id = models.CharField(max_length=255)
    sku = models.CharField(max_length=255, blank=True)
    quantity = models.DecimalField(max_digits=18, decimal_places=4)
    unit_price = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.COMPLETED)

    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        SHIPMENT = "shipment", "Warehouse shipment"

    # A warehouse shipment is stock leaving a fulfilment centre for an order, not a sale at a store.
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SALE, db_default=Kind.SALE)
    occurred_at = models.DateTimeField()
    # A refund/return line (negative quantity, its own order and line ids) links the sold line it gives back.
    refund_of_order_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    refund_of_line_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    order_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="Provider's updated_at of the order; older events never overwrite newer."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_account_id", "external_order_id", "external_line_id"],
                name="uniq_transaction_line",
            )
        ]
        indexes = [
            models.Index(fields=["retailer", "store", "occurred_at", "id"], name="txn_retailer_store_time"),
            models.Index(fields=["retailer", "occurred_at", "id"], name="txn_retailer_time"),
            models.Index(fields=["retailer", "updated_at", "id"], name="txn_retailer_updated"),
            models.Index(fields=["retailer", "product", "occurred_at"], name="txn_retailer_product"),
            # Serves the API's ?sku= filter (a SKU as sold, also for lines whose product is still unmapped).
            models.Index(fields=["retailer", "sku", "occurred_at", "id"], name="txn_retailer_sku_time"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_order_id}/{self.external_line_id} x{self.quantity}"
