"""Second-factor devices whose secrets are not readable in the database, unlike django-otp's bundled TOTP and
static-token devices (which keep the TOTP key and recovery codes in clear). Both plug into django-otp as ordinary
``Device`` models, so ``match_token``, ``user_has_device``, ``login`` and ``OTPMiddleware`` work unchanged."""

import hashlib
import secrets
import time
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models, transaction
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex
from fernet_fields import EncryptedCharField


def new_totp_key() -> str:
    return random_hex(20)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238: 6 digits, 30 s, SHA-1, what every app accepts). The key is encrypted
    with FERNET_KEYS like the providers' tokens, so ``rotate_fernet_keys`` re-encrypts it too."""

    key = EncryptedCharField(max_length=80, default=new_totp_key)
    tolerance = models.PositiveSmallIntegerField(default=1, help_text="Steps either side of now accepted.")
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1, help_text="Time step of the last code used (codes are single use).")

    STEP, DIGITS = 30, 6

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            value = int(token)
        except (TypeError, ValueError):
            value = None
        totp = TOTP(self.bin_key, self.STEP, 0, self.DIGITS, self.drift)
        totp.time = time.time()
        if value is not None and totp.verify(value, self.tolerance, self.last_t + 1):
            self.last_t, self.drift = totp.t(), totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def secret_b32(self) -> str:
        return b32encode(self.bin_key).decode()

    @property
    def config_url(self) -> str:
        issuer = getattr(settings, "OTP_TOTP_ISSUER", "ShelfOps").replace(":", "")
        label = quote(f"{issuer}:{self.user.get_username()}")
        params = urlencode({"secret": self.secret_b32, "algorithm": "SHA1", "digits": self.DIGITS,
                            "period": self.STEP})
        return f"otpauth://totp/{label}?{params}&issuer={quote(issuer)}"


def hash_code(code: str) -> str:
    # Codes are 50 random bits: a plain SHA-256 cannot be walked back (as for API tokens), no salt needed.
    return hashlib.sha256(code.strip().lower().replace(" ", "").encode()).hexdigest()


class RecoveryCodes(ThrottlingMixin, Device):
    """Single-use recovery codes; only their SHA-256 is stored, so they are shown once, at enrolment."""

    hashes = models.JSONField(default=list)

    COUNT = 10

    class Meta(Device.Meta):
        verbose_name = "recovery codes"
        verbose_name_plural = "recovery codes"

    def issue(self) -> list[str]:
        codes = [secrets.token_hex(5) for _ in range(self.COUNT)]
        self.hashes = [hash_code(c) for c in codes]
        self.save()
        return codes

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        digest = hash_code(str(token))
        # Re-read under a lock so one code cannot be spent twice by two requests at once.
        locked = type(self).objects.select_for_update().filter(pk=self.pk)
        with transaction.atomic():
            current = locked.first()
            if current is not None and digest in current.hashes:
                current.hashes.remove(digest)
                current.throttle_reset(commit=False)
                current.save()
                self.hashes = current.hashes
                return True
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self):
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)
