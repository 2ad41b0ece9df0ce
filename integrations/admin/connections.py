from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from audit import actions as audit_actions
from audit import record
from integrations.models import Connection, SyncSchedule

from . import connection_actions, sync_actions
from .connection_form import ConnectionForm, connection_form, provider_admin_fields
from .connection_page import ConnectionPageMixin
from .display import cut, status_badge
from .health_filters import ConnectionHealthFilter
from .http_state import breaker_badge, circuit_breaker
from .secrets import secret_state
from .sync import IntervalInWordsMixin, SyncScheduleInlineForm, latest_run, record_pause_or_resume


class SyncScheduleInline(IntervalInWordsMixin, admin.TabularInline):
    model = SyncSchedule
    form = SyncScheduleInlineForm
    extra = 0
    # What staff edit, and the latest run with the failure count; last run time and outcome are in the "Streams"
    # table under the form (both here squeezed the page wider than 1280 px).
    fields = ["stream", "enabled", "interval_seconds", "next_run_at", latest_run, "consecutive_failures",
              "paused_reason"]
    readonly_fields = [latest_run, "consecutive_failures", "paused_reason"]


@admin.display(description="health", ordering="health_state")
def health(connection):
    """The stored health (refreshed after every run and every minute): no query per row in the list. A connection
    never refreshed yet is computed here, as the dashboard counts it, instead of showing "Healthy" by default."""
    from integrations.health import connection_health, stored_health

    h = stored_health(connection) if connection.health_state else connection_health(connection)
    reasons = format_html_join("", "<li>{}</li>", ((r.text,) for r in h.reasons))
    return format_html('<strong class="health-{}">{}</strong><ul class="reasons">{}</ul>', h.state, h.label,
                       reasons)


@admin.action(description="Resume paused streams and sync them now")
def resume_paused(modeladmin, request, queryset):
    from integrations.health import refresh_health
    from integrations.sync.failures import resume

    for connection in queryset:
        names = resume(connection, trigger="manual")
        if names:
            record(audit_actions.SYNC_RESUME, request=request, connection=connection, streams=", ".join(names))
        refresh_health(connection.pk)
        modeladmin.message_user(request, f"{connection}: resumed {', '.join(names) or 'nothing (none paused)'}.",
                                messages.SUCCESS)


@admin.register(Connection)
class ConnectionAdmin(ConnectionPageMixin, admin.ModelAdmin):
    form = ConnectionForm  # with the providers' own fields (e.g. a write-only private key upload)
    # Fits 1280 px: the account (link), who, which provider, its state and health, when data last arrived.
    list_display = ["external_account_id", "retailer", "provider", "status_badge", health,
                    "last_successful_sync_at", breaker_badge]
    list_display_links = ["external_account_id"]
    list_filter = [ConnectionHealthFilter, "health_state", "provider", "status", "retailer", "auth_mode"]
    search_fields = ["external_account_id", "display_name", "retailer__name"]
    list_select_related = ["retailer"]
    access_token_state = secret_state("access_token", "access token")
    refresh_token_state = secret_state("refresh_token", "refresh token")
    private_key_state = secret_state("private_key", "private key")
    readonly_fields = [health, circuit_breaker, "access_token_state", "refresh_token_state", "private_key_state",
                       "token_expires_at", "refresh_token_expires_at", "last_refresh_at", "last_refresh_error",
                       "refresh_failures",
                       "connected_at", "disconnected_at", "last_successful_sync_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["retailer", "provider", "external_account_id", "display_name", "status", "problem",
                           health, circuit_breaker]}),
        ("Credentials", {"fields": ["auth_mode", "scopes", "access_token_state", "refresh_token_state",
                                    "token_expires_at", "refresh_token_expires_at", "last_refresh_at",
                                    "last_refresh_error", "refresh_failures", "certificate_id",
                                    "private_key_state", *provider_admin_fields()]}),
        ("Settings", {"fields": ["settings"]}),
        ("History", {"fields": ["connected_at", "disconnected_at", "last_successful_sync_at", "created_at",
                                "updated_at"]}),
    ]
    inlines = [SyncScheduleInline]
    actions = [sync_actions.sync_now, sync_actions.full_resync,
               connection_actions.refresh_token_now, connection_actions.test_connection,
               connection_actions.pause_syncing, connection_actions.resume_syncing,
               connection_actions.disconnect_connections, resume_paused]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description="problem")
    def problem_text(self, obj):
        return cut(obj.problem, 50) or "-"

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = connection_form()
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        """The class fieldsets with the Credentials section's provider fields as registered now."""
        extra = list(provider_admin_fields())
        fieldsets = []
        for title, options in self.fieldsets:
            fields = list(options["fields"])
            if title == "Credentials":
                fields = [f for f in fields if f not in extra] + extra
            fieldsets.append((title, {**options, "fields": fields}))
        return fieldsets

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for schedule_form in formset.forms:
            if (schedule_form.instance.pk and "enabled" in schedule_form.changed_data
                    and schedule_form not in formset.deleted_forms and "enabled" in schedule_form.initial):
                record_pause_or_resume(request, schedule_form.instance)
