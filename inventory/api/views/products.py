from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from inventory.models import Product

from ..export.views import ExportMixin, export_schema
from ..filters import ProductFilter
from ..provenance import with_provenance
from ..serializers import ProductSerializer
from .base import RetailerScopedReadOnlyViewSet, default_changes_ordering


@extend_schema_view(
    export=export_schema("products"),
    list=extend_schema(
        summary="List products",
        description="Your retailer's products. Filter by `sku`, `barcode`, `is_active`, `updated_since`.",
        examples=[
            OpenApiExample(
                "A product",
                value={
                    "id": 42, "sku": "TEE-RED-M", "barcode": "0012345678905", "name": "Tee, red, M",
                    "is_active": True, "created_at": "2026-01-05T10:00:00Z", "updated_at": "2026-03-01T08:12:44Z",
                },
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(summary="One product"),
)
class ProductViewSet(ExportMixin, RetailerScopedReadOnlyViewSet):
    queryset_model = Product
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    ordering_fields = ("id", "updated_at")
    default_ordering = default_changes_ordering("id")

    def scoped_queryset(self, retailer):
        return with_provenance(Product.objects.filter(retailer=retailer), "product")
