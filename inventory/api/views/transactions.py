from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from inventory.models import Transaction

from ..export.views import ExportMixin, export_schema
from ..filters import TransactionFilter
from ..serializers import TransactionSerializer
from .base import RetailerScopedReadOnlyViewSet, default_changes_ordering


@extend_schema_view(
    export=export_schema("sales transactions"),
    list=extend_schema(
        summary="List sales transactions",
        description="Sold lines, one row per order line. Filter by `store`, `product`, `sku`, `source`, "
        "`state`, `occurred_after`/`occurred_before`, `updated_since`. Default order `occurred_at`; with "
        "`updated_since` the default is `updated_at`, which follows edits and cancellations as well.",
        examples=[
            OpenApiExample(
                "A sold line",
                value={
                           "id": 5531, "store": 7, "product": 42, "source": "shopify",
                           "external_account_id": "demo.myshopify.com", "external_order_id": "gid://shopify/Order/1",
                           "external_line_id": "gid://shopify/LineItem/9", "sku": "TEE-RED-M",
                           "quantity": "2.0000", "unit_price": "19.9900", "currency": "USD", "state": "completed",
                           "occurred_at": "2026-03-01T14:03:00Z", "order_updated_at": "2026-03-01T14:05:00Z",
                           "created_at": "2026-03-01T14:06:10Z", "updated_at": "2026-03-01T14:06:10Z",
                       },
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(summary="One sales transaction line"),
)
class TransactionViewSet(ExportMixin, RetailerScopedReadOnlyViewSet):
    queryset_model = Transaction
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilter
    ordering_fields = ("occurred_at", "updated_at", "id")
    default_ordering = default_changes_ordering("occurred_at")

    def scoped_queryset(self, retailer):
        return Transaction.objects.filter(retailer=retailer)
