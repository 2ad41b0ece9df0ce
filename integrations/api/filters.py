import django_filters as df

from inventory.api.filters import StrictFilterSet, UtcDateTimeFilter

from ..models import ApiCallLog, Connection, SyncRun


def _connections(request):
    return Connection.objects.filter(retailer=request.user.retailer) if request else Connection.objects.none()


class SyncRunFilter(StrictFilterSet):
    connection = df.ModelChoiceFilter(queryset=_connections, help_text="Connection id.")
    stream = df.CharFilter()
    status = df.ChoiceFilter(choices=SyncRun.Status.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = SyncRun
        fields = []


class ApiCallLogFilter(StrictFilterSet):
    connection = df.ModelChoiceFilter(queryset=_connections, help_text="Connection id.")
    status_code = df.NumberFilter()

    class Meta:
        model = ApiCallLog
        fields = []
