from django.conf import settings
from django.db import models
from django.utils import timezone
from fernet_fields import EncryptedTextField

from inventory.models import Retailer


class OAuthSession(models.Model):
    """Server-side state of one OAuth connect attempt. ``state`` is a random single-use nonce, bound to the
    browser session (``browser_binding`` is a hash of a value only that browser holds), short-lived."""

    state = models.CharField(max_length=128, unique=True)
    provider = models.CharField(max_length=32)
    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="oauth_sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    browser_binding = models.CharField(max_length=64)
    code_verifier = EncryptedTextField(null=True, blank=True)
    redirect_uri = models.CharField(max_length=500)
    extra = models.JSONField(default=dict, blank=True, help_text="Provider inputs, e.g. shop or account id.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "OAuth session"
        indexes = [models.Index(fields=["expires_at"], name="oauthsession_expiry")]

    def __str__(self) -> str:
        return f"{self.provider} connect for {self.retailer} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
