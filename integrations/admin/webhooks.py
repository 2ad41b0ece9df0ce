from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Sum
from django.utils import timezone
from django.utils.html import format_html_join

from audit import actions as audit_actions
from audit import audited, common_retailer
from integrations.models import WebhookEvent, WebhookRejection
from integrations.webhooks.replay import replay

from .display import cut, pretty_json, status_badge
from .live import LiveRefreshMixin


@admin.action(description="Replay selected events (process them again)")
def replay_events(modeladmin, request, queryset):
    with audited(audit_actions.WEBHOOK_REPLAY, request=request, events=queryset.count(),
                 retailer=common_retailer(queryset, "connection__retailer")) as entry:
        report = replay(queryset)
        entry.note(result=report.summary())
        if report.still_unmatched:
            entry.fail(still_unmatched=len(report.still_unmatched))
    level = messages.WARNING if report.still_unmatched else messages.SUCCESS
    modeladmin.message_user(request, f"Replay: {report.summary()}.", level)


@admin.register(WebhookEvent)
class WebhookEventAdmin(LiveRefreshMixin, admin.ModelAdmin):
    # Fits 1280 px: event id cut short (full id in its tooltip), status badge, attempts and outcome visible.
    list_display = ["short_event_id", "provider", "topic", "status_badge", "connection", "attempts", "received_at",
                    "processed_at", "short_outcome"]
    live_statuses = ("received", "queued", "processing")
    list_filter = ["provider", "status", "topic", "connection", "connection__retailer"]
    search_fields = ["event_id", "topic", "external_account_id"]
    list_select_related = ["connection__retailer"]
    readonly_fields = ["provider", "connection", "external_account_id", "event_id", "topic", "headers_json", "payload",
                       "received_at", "status", "attempts", "enqueued_at", "next_attempt_at", "processed_at",
                       "outcome", "error", "traceback"]
    exclude = ["body", "headers"]
    actions = [replay_events]
    date_hierarchy = "received_at"
    show_full_result_count = False

    @admin.display(description="retailer")
    def retailer(self, obj):
        return obj.connection.retailer if obj.connection else "-"

    @admin.display(description="event id", ordering="event_id")
    def short_event_id(self, obj):
        return cut(obj.event_id, 24)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description="outcome")
    def short_outcome(self, obj):
        return cut(obj.outcome or obj.error, 48)

    @admin.display(description="headers")
    def headers_json(self, obj):
        return pretty_json(obj.headers, summary="headers")

    @admin.display(description="payload")
    def payload(self, obj):
        # The stored raw bytes (exactly what was signed), indented for reading; open by default.
        return pretty_json(obj.body, summary="payload", open_=True)

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        # Rejected deliveries are never stored as events; their counts are shown above the list.
        since = timezone.localdate() - timedelta(days=1)
        rows = (
            WebhookRejection.objects.filter(day__gte=since)
            .values("provider", "reason")
            .annotate(total=Sum("count"))
            .order_by("provider", "reason")
        )
        if rows:
            text = ", ".join(f"{r['provider']} {r['reason']}: {r['total']}" for r in rows)
            self.message_user(request, f"Rejected deliveries since yesterday: {text}.", messages.INFO)
        return super().changelist_view(request, extra_context)


@admin.register(WebhookRejection)
class WebhookRejectionAdmin(admin.ModelAdmin):
    """Deliveries refused with 401/413: counts per provider, reason and day, and the first few as samples."""

    list_display = ["day", "provider", "reason", "count", "first_seen_at", "last_seen_at"]
    list_filter = ["provider", "reason", "day"]
    readonly_fields = ["provider", "reason", "day", "count", "first_seen_at", "last_seen_at", "sample_list"]
    exclude = ["samples"]

    @admin.display(description="samples (signatures never kept)")
    def sample_list(self, obj):
        return format_html_join(
            "", "<pre style='white-space:pre-wrap'>{} from {} ({} bytes)\n{}\n{}</pre>",
            ((s.get("at"), s.get("remote_addr"), s.get("body_bytes"), s.get("headers"), s.get("body_prefix"))
             for s in obj.samples),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
