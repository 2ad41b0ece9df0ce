"""Lockouts in admin: django-axes's access attempts, with "Lift lockout" recorded in the audit trail. Deleting an
attempt is what unlocks the account or address, so every delete path goes through ``_lift``."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages

from audit import actions as audit_actions
from audit import record

from .models import AuthenticatorDevice, RecoveryCodes

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    actions = ["lift_lockouts", "cleanup_expired_attempts"]

    def _lift(self, request, attempts) -> int:
        for attempt in attempts:
            record(audit_actions.LOCKOUT_LIFTED, request=request, username=attempt.username,
                   address=attempt.ip_address, failures=attempt.failures_since_start)
            attempt.delete()
        return len(attempts)

    @admin.action(description="Lift lockout (forget the failed attempts of the selected rows)")
    def lift_lockouts(self, request, queryset):
        lifted = self._lift(request, list(queryset))
        self.message_user(request, f"Lifted {lifted} lockout(s): those accounts and addresses can sign in again.",
                          messages.SUCCESS)

    def delete_model(self, request, obj):
        self._lift(request, [obj])

    def delete_queryset(self, request, queryset):
        self._lift(request, list(queryset))

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "Lift lockout" says what deleting does, and records it
        return actions


@admin.register(AuthenticatorDevice, RecoveryCodes)
class SecondFactorAdmin(admin.ModelAdmin):
    """Staff see who enrolled and delete a lost phone's device (the user then signs in with a recovery code and
    enrols again); secrets are never shown."""

    list_display = ["user", "name", "confirmed"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "name", "confirmed"]
    readonly_fields = ["user", "name", "confirmed"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def _removed(self, request, devices) -> None:
        for device in devices:
            merchant = getattr(device.user, "merchant", None)
            record(audit_actions.OTP_DEVICE_REMOVED, request=request, retailer=merchant.retailer if merchant else None,
                   user=device.user.get_username(), device=device._meta.verbose_name)
            device.delete()

    def delete_model(self, request, obj):
        self._removed(request, [obj])

    def delete_queryset(self, request, queryset):
        self._removed(request, list(queryset.select_related("user")))
