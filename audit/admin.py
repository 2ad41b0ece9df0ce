"""Read-only admin for the trail: search and filter by retailer, user and action; no add, change or delete."""

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "outcome", "actor_label", "retailer", "connection_label", "ip_address"]
    list_filter = ["action", "outcome", "retailer", ("actor_user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["actor_label", "actor_user__username", "action", "connection_label", "retailer__name",
                     "ip_address"]
    list_select_related = ["retailer"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
