from django.contrib import admin
from django.utils.html import format_html

from integrations.models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "provider", "topic", "status", "connection", "retailer", "attempts", "received_at",
                    "processed_at"]
    list_filter = ["provider", "status", "topic", "connection__retailer"]
    search_fields = ["event_id", "topic", "external_account_id"]
    list_select_related = ["connection__retailer"]
    readonly_fields = ["provider", "connection", "external_account_id", "event_id", "topic", "headers", "payload",
                       "received_at", "status", "attempts", "enqueued_at", "next_attempt_at", "processed_at",
                       "error", "traceback"]
    exclude = ["body"]
    show_full_result_count = False

    @admin.display(description="retailer")
    def retailer(self, obj):
        return obj.connection.retailer if obj.connection else "-"

    @admin.display(description="raw payload")
    def payload(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", bytes(obj.body).decode("utf-8", "replace"))

    def has_add_permission(self, request):
        return False
