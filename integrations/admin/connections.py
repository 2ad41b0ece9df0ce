from django.contrib import admin

from integrations.models import Connection, SyncSchedule

from . import connection_actions, sync_actions
from .connection_form import ConnectionForm
from .http_state import circuit_breaker
from .secrets import secret_state
from .sync import SyncScheduleInlineForm, latest_run, record_pause_or_resume


class SyncScheduleInline(admin.TabularInline):
    model = SyncSchedule
    form = SyncScheduleInlineForm
    extra = 0
    fields = ["stream", "enabled", "interval_seconds", "next_run_at", "last_run_at", "last_outcome", latest_run]
    readonly_fields = ["last_run_at", "last_outcome", latest_run]


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm  # write-only private key upload for NetSuite M2M connections
    list_display = ["__str__", "retailer", "provider", "external_account_id", "status", "token_expires_at",
                    "last_successful_sync_at", "problem", circuit_breaker]
    list_filter = ["provider", "status", "retailer", "auth_mode"]
    search_fields = ["external_account_id", "display_name", "retailer__name"]
    list_select_related = ["retailer"]
    access_token_state = secret_state("access_token", "access token")
    refresh_token_state = secret_state("refresh_token", "refresh token")
    private_key_state = secret_state("private_key", "private key")
    readonly_fields = [circuit_breaker, "access_token_state", "refresh_token_state", "private_key_state",
                       "token_expires_at", "refresh_token_expires_at", "last_refresh_at", "last_refresh_error",
                       "refresh_failures",
                       "connected_at", "disconnected_at", "last_successful_sync_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["retailer", "provider", "external_account_id", "display_name", "status", "problem",
                           circuit_breaker]}),
        ("Credentials", {"fields": ["auth_mode", "scopes", "access_token_state", "refresh_token_state",
                                    "token_expires_at", "refresh_token_expires_at", "last_refresh_at",
                                    "last_refresh_error", "refresh_failures", "certificate_id",
                                    "private_key_state", "private_key_file"]}),
        ("Settings", {"fields": ["settings"]}),
        ("History", {"fields": ["connected_at", "disconnected_at", "last_successful_sync_at", "created_at",
                                "updated_at"]}),
    ]
    inlines = [SyncScheduleInline]
    actions = [sync_actions.sync_now, sync_actions.full_resync,
               connection_actions.refresh_token_now, connection_actions.test_connection,
               connection_actions.disconnect_connections]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for schedule_form in formset.forms:
            if (schedule_form.instance.pk and "enabled" in schedule_form.changed_data
                    and schedule_form not in formset.deleted_forms and "enabled" in schedule_form.initial):
                record_pause_or_resume(request, schedule_form.instance)
