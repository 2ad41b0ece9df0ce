"""Read shapes of the synced data. Related rows are referenced by id; products and stores also nest where they come
from (``known_in``, ``awaiting_match``), prefetched once per page. The mapping serializer is the only writable one
(its ``product``)."""

from rest_framework import serializers

from inventory.models import InventoryLevel, Product, ProductMapping, Store, StoreMapping, Transaction

from .fastread import FastReadMixin
from .provenance import AwaitingMatchSerializer, KnownInSerializer


class FastReadSerializer(FastReadMixin, serializers.ModelSerializer):
    """Read-only model rows through ``FastReadMixin``'s compiled plan; the declared fields still drive the OpenAPI
    schema."""


class StoreSerializer(FastReadSerializer):
    known_in = KnownInSerializer(source="known", many=True, read_only=True,
                                 help_text="The systems this store is known in, and why it was matched.")
    awaiting_match = AwaitingMatchSerializer(
        source="awaiting", many=True, read_only=True,
        help_text="Locations of other systems suggested as this store, waiting for a person to confirm.")

    class Meta:
        model = Store
        fields = ["id", "name", "code", "kind", "timezone", "address", "is_active", "created_at", "updated_at",
                  "known_in", "awaiting_match"]


class ProductSerializer(FastReadSerializer):
    known_in = KnownInSerializer(source="known", many=True, read_only=True,
                                 help_text="The systems this product is known in, and why it was matched.")
    awaiting_match = AwaitingMatchSerializer(
        source="awaiting", many=True, read_only=True,
        help_text="Items of other systems suggested as this product, waiting for a person to confirm, with the "
                  "sales lines and stock levels held for them.")

    class Meta:
        model = Product
        fields = ["id", "sku", "barcode", "name", "is_active", "created_at", "updated_at", "known_in",
                  "awaiting_match"]


class InventoryLevelSerializer(FastReadSerializer):
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


class TransactionSerializer(FastReadSerializer):
    class Meta:
        model = Transaction
        fields = [
            "id", "store", "product", "source", "external_account_id", "external_order_id", "external_line_id",
            "sku", "quantity", "unit_price", "currency", "state", "kind", "occurred_at", "order_updated_at",
            "refund_of_order_id", "refund_of_line_id", "created_at", "updated_at",
        ]
        extra_kwargs = {
            "refund_of_line_id": {"help_text": "For a refund or return line (negative quantity): the external line "
                                               "id of the sold line it gives back, in order refund_of_order_id."},
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
            "product", "is_mapped", "automatically_generated", "deleted_at_source", "deleted_at_source_at",
            "created_at", "updated_at",
        ]
        read_only_fields = [f for f in fields if f != "product"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_target_choices(self, "product", Product)


def scope_target_choices(serializer, name, model):
    """Only the token's own rows can be chosen as a target; any other id reads as "does not exist"."""
    request = serializer.context.get("request")
    retailer = getattr(getattr(request, "user", None), "retailer", None)
    if retailer is not None:
        serializer.fields[name].queryset = model.objects.filter(retailer=retailer)


class StoreMappingSerializer(serializers.ModelSerializer):
    """A provider location and the store it counts as; only ``store`` is writable."""

    store = serializers.PrimaryKeyRelatedField(
        queryset=Store.objects.none(), allow_null=True, help_text="Store id, or null to unmap."
    )
    is_mapped = serializers.BooleanField(read_only=True)

    class Meta:
        model = StoreMapping
        fields = [
            "id", "provider", "external_account_id", "external_id", "external_name", "store", "is_mapped",
            "automatically_generated", "deleted_at_source", "deleted_at_source_at", "created_at", "updated_at",
        ]
        read_only_fields = [f for f in fields if f != "store"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_target_choices(self, "store", Store)
