"""Read shapes of the synced data. Related rows are referenced by id (no nested objects), so a list page is one
query; the mapping serializer is the only writable one (its ``product``)."""

from rest_framework import serializers

from inventory.models import InventoryLevel, Product, ProductMapping, Store, Transaction


class StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["id", "name", "code", "timezone", "address", "is_active", "created_at", "updated_at"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "barcode", "name", "is_active", "created_at", "updated_at"]


class InventoryLevelSerializer(serializers.ModelSerializer):
    store_external_id = serializers.CharField(source="store_mapping.external_id", read_only=True)
    product_external_id = serializers.CharField(source="product_mapping.external_id", read_only=True)

    class Meta:
        model = InventoryLevel
        fields = [
            "id", "store", "product", "source", "store_external_id", "product_external_id",
            "available", "on_hand", "committed", "incoming", "as_of", "updated_at",
        ]
        extra_kwargs = {
            "store": {"help_text": "Store id; null while the provider location is unmapped."},
            "product": {"help_text": "Product id; null while the provider item is unmapped."},
        }


class TransactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Transaction
        fields = [
            "id", "store", "product", "source", "external_account_id", "external_order_id", "external_line_id",
            "sku", "quantity", "unit_price", "currency", "state", "occurred_at", "order_updated_at",
            "created_at", "updated_at",
        ]
        extra_kwargs = {
            "store": {"help_text": "Store id; null while the provider location is unmapped."},
            "product": {"help_text": "Product id; null while the provider item is unmapped."},
        }


class ProductMappingSerializer(serializers.ModelSerializer):
    """A provider item and the product it counts as. Setting ``product`` is a manual choice: the automatic
    matcher never overwrites it, and the levels and sales held for the item attach to the product."""

    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.none(), allow_null=True, help_text="Product id, or null to unmap."
    )
    is_mapped = serializers.BooleanField(read_only=True)

    class Meta:
        model = ProductMapping
        fields = [
            "id", "provider", "external_account_id", "external_id", "external_name", "sku", "barcode",
            "product", "is_mapped", "automatically_generated", "deleted_at_source", "created_at", "updated_at",
        ]
        read_only_fields = [f for f in fields if f != "product"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        retailer = getattr(getattr(request, "user", None), "retailer", None)
        if retailer is not None:
            # Only the token's own products can be chosen; any other id reads as "does not exist".
            self.fields["product"].queryset = Product.objects.filter(retailer=retailer)
