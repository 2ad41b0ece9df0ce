from django.contrib import admin

from integrations.models import ApiCallLog

from .display import cut, http_status_badge


@admin.register(ApiCallLog)
class ApiCallLogAdmin(admin.ModelAdmin):
    # Fits 1280 px: the URL (already redacted) is cut with the full one in its tooltip.
    list_display = ["created_at", "provider", "connection", "method", "short_url", "status_badge", "duration_ms",
                    "attempt", "retry_reason", "budget_left"]
    list_filter = ["provider", "status_code", "connection__retailer"]
    search_fields = ["url", "request_id", "connection__external_account_id"]
    list_select_related = ["connection__retailer"]
    readonly_fields = [f.name for f in ApiCallLog._meta.fields]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="URL (redacted)")
    def short_url(self, obj):
        return cut(obj.url, 56)

    @admin.display(description="status", ordering="status_code")
    def status_badge(self, obj):
        return http_status_badge(obj.status_code)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
