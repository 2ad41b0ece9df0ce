from django.db.models import F, Prefetch, Window
from django.db.models.functions import RowNumber
from drf_spectacular.utils import extend_schema, extend_schema_view

from inventory.api.permissions import IsStaffToken
from inventory.api.views.base import RetailerScopedReadOnlyViewSet

from ..models import ApiCallLog, Connection, SyncRun
from ..models.sync import COMPLETED_RUN_STATES
from .filters import ApiCallLogFilter, SyncRunFilter
from .serializers import ApiCallLogSerializer, ConnectionSerializer, SyncRunSerializer


def _latest_run_per_stream(**conditions):
    """Runs ranked newest-first within (connection, stream), keeping rank 1: one query for all connections of
    the page instead of one per connection and stream."""
    return (
        SyncRun.objects.filter(**conditions)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("connection_id"), F("stream")], order_by=[F("created_at").desc(),
                                                                                      F("id").desc()]
            )
        )
        .filter(rank=1)
    )


@extend_schema_view(
    list=extend_schema(
        summary="List connections",
        description="Your retailer's provider connections: status, what needs attention (`problem`), and per "
        "stream the schedule, latest run and last success. No credential is ever included.",
    ),
    retrieve=extend_schema(summary="One connection"),
)
class ConnectionViewSet(RetailerScopedReadOnlyViewSet):
    queryset_model = Connection
    serializer_class = ConnectionSerializer
    ordering_fields = ("id",)
    default_ordering = "id"

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._derive_missing_health(page if page is not None else [])
        return page

    def get_object(self):
        obj = super().get_object()
        self._derive_missing_health([obj])
        return obj

    def _derive_missing_health(self, rows):
        """Rows never refreshed yet get their health derived for the whole page at once (constant queries)."""
        from integrations.health import connections_health

        missing = [c for c in rows if not c.health_state]
        for connection, health in zip(missing, connections_health(missing).values(), strict=True):
            connection.derived_health = health

    def scoped_queryset(self, retailer):
        return Connection.objects.filter(retailer=retailer).prefetch_related(
            "schedules",
            Prefetch("sync_runs", queryset=_latest_run_per_stream(), to_attr="latest_runs"),
            Prefetch(
                "sync_runs",
                queryset=_latest_run_per_stream(status__in=COMPLETED_RUN_STATES),
                to_attr="latest_successes",
            ),
        )


@extend_schema_view(
    list=extend_schema(
        summary="List sync runs",
        description="Sync runs of your connections, newest first. Filter by `connection`, `stream`, `status`.",
    ),
    retrieve=extend_schema(summary="One sync run"),
)
class SyncRunViewSet(RetailerScopedReadOnlyViewSet):
    queryset_model = SyncRun
    serializer_class = SyncRunSerializer
    filterset_class = SyncRunFilter
    ordering_fields = ("created_at", "id")
    default_ordering = "-created_at"

    def scoped_queryset(self, retailer):
        return SyncRun.objects.filter(connection__retailer=retailer)


@extend_schema_view(
    list=extend_schema(
        summary="List provider API calls (staff)",
        description="Staff tokens only: the redacted log of calls to providers for your connections.",
    ),
    retrieve=extend_schema(summary="One provider API call (staff)"),
)
class ApiCallLogViewSet(RetailerScopedReadOnlyViewSet):
    queryset_model = ApiCallLog
    serializer_class = ApiCallLogSerializer
    filterset_class = ApiCallLogFilter
    permission_classes = [IsStaffToken]
    ordering_fields = ("created_at", "id")
    default_ordering = "-created_at"

    def scoped_queryset(self, retailer):
        return ApiCallLog.objects.filter(connection__retailer=retailer)
