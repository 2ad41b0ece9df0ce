from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from inventory.models import InventoryLevel

from ..export.views import ExportMixin, export_schema
from ..filters import InventoryLevelFilter
from ..serializers import InventoryLevelSerializer
from .base import RetailerScopedReadOnlyViewSet, default_changes_ordering


@extend_schema_view(
    export=export_schema("inventory levels"),
    list=extend_schema(
        summary="List inventory levels",
        description="Stock per provider item and location, as last reported by the provider. Quantities are "
        "decimal strings; null where the provider does not report that state. Filter by `store`, `product`, "
        "`source`, `as_of_after`/`as_of_before`, `updated_since`.",
        examples=[
            OpenApiExample(
                "A level",
                value={
                    "id": 901, "store": 7, "product": 42, "source": "square", "store_external_id": "L8F2",
                    "product_external_id": "VAR-77", "available": "12.0000", "on_hand": "14.0000",
                    "committed": "2.0000", "incoming": None, "as_of": "2026-03-01T08:00:00Z",
                    "updated_at": "2026-03-01T08:12:44Z",
                },
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(summary="One inventory level"),
)
class InventoryLevelViewSet(ExportMixin, RetailerScopedReadOnlyViewSet):
    queryset_model = InventoryLevel
    serializer_class = InventoryLevelSerializer
    filterset_class = InventoryLevelFilter
    ordering_fields = ("id", "as_of", "updated_at")
    default_ordering = default_changes_ordering("id")

    def scoped_queryset(self, retailer):
        # The two mappings give the provider ids in the same query (no per-row lookups).
        return InventoryLevel.objects.filter(retailer=retailer).select_related("store_mapping", "product_mapping")
