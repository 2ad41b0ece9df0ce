from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from inventory.models import Store

from ..export.views import ExportMixin, export_schema
from ..filters import StoreFilter
from ..provenance import with_provenance
from ..serializers import StoreSerializer
from .base import RetailerScopedReadOnlyViewSet, default_changes_ordering


@extend_schema_view(
    export=export_schema("stores"),
    list=extend_schema(
        summary="List stores",
        description="Your retailer's stores. Filter by `code`, `is_active`, `updated_since`.",
        examples=[
            OpenApiExample(
                "A page of stores",
                value={
                    "id": 7, "name": "Downtown", "code": "DT-01", "timezone": "America/Chicago",
                    "address": "1 Main St", "is_active": True,
                    "created_at": "2026-01-05T10:00:00Z", "updated_at": "2026-03-01T08:12:44Z",
                },
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(summary="One store"),
)
class StoreViewSet(ExportMixin, RetailerScopedReadOnlyViewSet):
    queryset_model = Store
    serializer_class = StoreSerializer
    filterset_class = StoreFilter
    ordering_fields = ("id", "updated_at")
    default_ordering = default_changes_ordering("id")

    def scoped_queryset(self, retailer):
        return with_provenance(Store.objects.filter(retailer=retailer), "store")
