"""Who must pass a second factor, and enrolment.

Staff (anyone who can reach the admin) must in production mode; anyone else who enrolled (merchants may) must
once enrolled. Devices are ``accounts.models``: an authenticator app (TOTP, key encrypted) and recovery codes
(hashed), so neither secret is readable in the database.
"""

from django.conf import settings
from django.db import transaction
from django_otp import user_has_device

from .models import AuthenticatorDevice, RecoveryCodes

DEVICE_NAME = "authenticator app"


def production_mode() -> bool:
    return getattr(settings, "SHELFOPS_ENV", "local") == "production"


def second_factor_required(user) -> bool:
    if not user.is_authenticated:
        return False
    if user_has_device(user):
        return True
    return user.is_staff and production_mode()


def pending_device(user) -> AuthenticatorDevice:
    """The unconfirmed device being enrolled (one per user, kept until confirmed or replaced)."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    return device or AuthenticatorDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def confirm_enrolment(device: AuthenticatorDevice) -> list[str]:
    """Make ``device`` the user's one authenticator and issue fresh recovery codes (returned once, in clear)."""
    AuthenticatorDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    RecoveryCodes.objects.filter(user=device.user).delete()
    return RecoveryCodes.objects.create(user=device.user, name="recovery codes", confirmed=True).issue()
