from django.db import models
from django.utils import timezone
from fernet_fields import EncryptedTextField

from inventory.models import Retailer


class ConnectionQuerySet(models.QuerySet):
    def for_retailer(self, retailer):
        return self.filter(retailer=retailer)

    def active(self):
        return self.filter(status=Connection.Status.ACTIVE)


class Connection(models.Model):
    """One retailer's link to one external account at one provider (a Square merchant, a Shopify shop, a
    NetSuite account). Tokens are encrypted at rest and never shown back."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        DISCONNECTED = "disconnected", "Disconnected"

    class AuthMode(models.TextChoices):
        AUTHORIZATION_CODE = "authorization_code", "OAuth authorization code"
        CLIENT_CREDENTIALS = "client_credentials", "OAuth client credentials (M2M)"
        PERSONAL_ACCESS_TOKEN = "personal_access_token", "Personal access token"

    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="connections")
    provider = models.CharField(max_length=32, db_index=True)
    external_account_id = models.CharField(
        max_length=255, help_text="The account's id at the provider (e.g. a merchant id or a shop domain)."
    )
    display_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.PENDING, db_index=True)
    auth_mode = models.CharField(max_length=32, choices=AuthMode.choices, default=AuthMode.AUTHORIZATION_CODE)
    scopes = models.TextField(blank=True, help_text="Granted scopes, space separated.")

    access_token = EncryptedTextField(null=True, blank=True)
    refresh_token = EncryptedTextField(null=True, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    last_refresh_at = models.DateTimeField(null=True, blank=True)
    last_refresh_error = models.TextField(blank=True)
    refresh_failures = models.PositiveIntegerField(default=0)

    # Client-credentials (M2M) connections: the certificate's private key, encrypted, and its certificate id.
    private_key = EncryptedTextField(null=True, blank=True)
    certificate_id = models.CharField(max_length=255, blank=True)

    settings = models.JSONField(
        default=dict, blank=True, help_text="Per-connection settings (host overrides, concurrency, streams)."
    )
    problem = models.CharField(
        max_length=500, blank=True, help_text="What needs the merchant's attention, in words; empty when healthy."
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_successful_sync_at = models.DateTimeField(null=True, blank=True)
    # The last health notified (integrations.health): a change of state is what sends one e-mail.
    health_state = models.CharField(max_length=32, blank=True, db_index=True)
    health_reasons = models.JSONField(default=list, blank=True)
    health_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["retailer", "provider", "external_account_id"]
        constraints = [
            # One external account belongs to one retailer: reconnecting updates this row.
            models.UniqueConstraint(
                fields=["provider", "external_account_id"],
                condition=~models.Q(external_account_id=""),
                name="uniq_connection_external_account",
            )
        ]
        indexes = [models.Index(fields=["status", "token_expires_at"], name="connection_refresh_due")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_account_id or '?'} ({self.retailer})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def token_expires_within(self, seconds: float) -> bool:
        if self.token_expires_at is None:
            return False
        return (self.token_expires_at - timezone.now()).total_seconds() <= seconds
