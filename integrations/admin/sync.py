from django.contrib import admin

from integrations.models import SyncCursor, SyncRun, SyncSchedule


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["connection", "stream", "status", "full", "trigger", "started_at", "finished_at", "pages",
                    "records_seen", "records_created", "records_updated", "records_unchanged", "records_held"]
    list_filter = ["status", "stream", "connection__provider", "connection__retailer"]
    search_fields = ["connection__external_account_id", "error"]
    list_select_related = ["connection__retailer"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    list_display = ["connection", "stream", "value", "version", "updated_at"]
    list_filter = ["stream", "connection__provider"]
    search_fields = ["connection__external_account_id"]
    list_select_related = ["connection__retailer"]


@admin.register(SyncSchedule)
class SyncScheduleAdmin(admin.ModelAdmin):
    list_display = ["connection", "stream", "enabled", "interval_seconds", "next_run_at", "last_run_at",
                    "last_outcome"]
    list_filter = ["enabled", "stream", "connection__provider", "connection__retailer"]
    search_fields = ["connection__external_account_id"]
    list_select_related = ["connection__retailer"]
    list_editable = ["enabled", "interval_seconds"]
    show_full_result_count = False
