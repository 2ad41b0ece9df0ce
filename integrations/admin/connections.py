from django.contrib import admin

from integrations.models import Connection, SyncSchedule

from . import connection_actions, sync_actions
from .connection_form import ConnectionForm
from .connection_page import ConnectionPageMixin
from .display import cut, status_badge
from .health_filters import ConnectionHealthFilter
from .http_state import breaker_badge, circuit_breaker
from .secrets import secret_state
from .sync import IntervalInWordsMixin, SyncScheduleInlineForm, latest_run


class SyncScheduleInline(IntervalInWordsMixin, admin.TabularInline):
    model = SyncSchedule
    form = SyncScheduleInlineForm
    extra = 0
    fields = ["stream", "enabled", "interval_seconds", "next_run_at", "last_run_at", "last_outcome", latest_run]
    readonly_fields = ["last_run_at", "last_outcome", latest_run]


@admin.register(Connection)
class ConnectionAdmin(ConnectionPageMixin, admin.ModelAdmin):
    form = ConnectionForm  # write-only private key upload for NetSuite M2M connections
    # Fits 1280 px: the account (link), who, which provider, its state, when data last arrived, what is wrong.
    list_display = ["external_account_id", "retailer", "provider", "status_badge", "last_successful_sync_at",
                    "problem_text", breaker_badge]
    list_display_links = ["external_account_id"]
    list_filter = [ConnectionHealthFilter, "provider", "status", "retailer", "auth_mode"]
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
               connection_actions.pause_syncing, connection_actions.resume_syncing,
               connection_actions.disconnect_connections]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description="problem")
    def problem_text(self, obj):
        return cut(obj.problem, 50) or "-"
