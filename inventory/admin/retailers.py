from django.contrib import admin, messages

from audit import actions as audit_actions
from audit import record
from inventory.models import ApiToken, MerchantUser, Retailer


class MerchantUserInline(admin.TabularInline):
    model = MerchantUser
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Retailer)
class RetailerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MerchantUserInline]


@admin.register(MerchantUser)
class MerchantUserAdmin(admin.ModelAdmin):
    list_display = ["user", "retailer", "created_at"]
    list_filter = ["retailer"]
    search_fields = ["user__username", "user__email", "retailer__name"]
    autocomplete_fields = ["user", "retailer"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created here; the key is shown once, in the success message, and only its hash is kept."""

    list_display = ["name", "retailer", "prefix", "is_staff_token", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["retailer", "is_staff_token", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "retailer__name"]
    fields = ["retailer", "name", "is_staff_token", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]

    def get_readonly_fields(self, request, obj=None):
        # A token's retailer is its whole scope: moving an issued key to another tenant is not an edit, it is a
        # new token (and the old key would silently start reading someone else's data).
        return [*self.readonly_fields, "retailer"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = ApiToken.issue(obj.retailer, obj.name, is_staff_token=obj.is_staff_token)
        obj.pk, obj.prefix, obj.key_hash = token.pk, token.prefix, token.key_hash
        obj.created_at = token.created_at
        record(audit_actions.API_TOKEN_CREATED, request=request, retailer=token.retailer, name=token.name,
               prefix=token.prefix, staff_token=token.is_staff_token)
        self.message_user(
            request, f"Token created. Copy the key now, it will not be shown again: {key}", messages.WARNING
        )

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request, queryset):
        from django.db import transaction
        from django.utils import timezone

        with transaction.atomic():
            tokens = list(queryset.filter(revoked_at__isnull=True).select_for_update())
            ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=timezone.now())
            for token in tokens:
                record(audit_actions.API_TOKEN_REVOKED, request=request, retailer=token.retailer, name=token.name,
                       prefix=token.prefix)
        self.message_user(request, f"Revoked {len(tokens)} token(s).")
