from django.contrib import admin

from integrations.models import OAuthSession


@admin.register(OAuthSession)
class OAuthSessionAdmin(admin.ModelAdmin):
    """Read-only audit of connect attempts; state, verifier and browser binding are never displayed."""

    list_display = ["provider", "retailer", "user", "created_at", "expires_at", "used_at", "outcome"]
    list_filter = ["provider", "retailer"]
    search_fields = ["retailer__name", "user__username", "outcome"]
    fields = ["provider", "retailer", "user", "redirect_uri", "extra", "created_at", "expires_at", "used_at",
              "outcome"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
