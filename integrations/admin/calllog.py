from django.contrib import admin

from integrations.models import ApiCallLog


@admin.register(ApiCallLog)
class ApiCallLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "provider", "connection", "method", "url", "status_code", "duration_ms",
                    "attempt", "retry_reason", "budget_left"]
    list_filter = ["provider", "status_code", "connection__retailer"]
    search_fields = ["url", "request_id", "connection__external_account_id"]
    list_select_related = ["connection__retailer"]
    readonly_fields = [f.name for f in ApiCallLog._meta.fields]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
