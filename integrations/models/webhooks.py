from django.db import models
from fernet_fields import EncryptedTextField

from .connection import Connection


class WebhookEvent(models.Model):
    """The webhook inbox: every verified delivery is stored here before it is acknowledged."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"
        UNMATCHED = "unmatched", "Unmatched (unknown account)"

    provider = models.CharField(max_length=32)
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    external_account_id = models.CharField(max_length=255, blank=True)
    event_id = models.CharField(max_length=255)
    topic = models.CharField(max_length=128, db_index=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    outcome = models.CharField(max_length=500, blank=True, help_text="What processing did (counts, or why ignored).")

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="uniq_webhook_provider_event")
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhook_status_received"),
            # Dashboard charts: events processed per hour and their lag.
            models.Index(fields=["processed_at"], name="webhook_processed"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.topic} {self.event_id}"


class WebhookRejection(models.Model):
    """Deliveries refused before storage (bad or missing signature, oversized body), counted per provider, reason
    and day, with a bounded sample of the first few (headers minus secrets, a body prefix) for debugging."""

    provider = models.CharField(max_length=32)
    reason = models.CharField(max_length=64)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    samples = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-day", "provider", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "reason", "day"], name="uniq_webhook_rejection_day")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.reason} {self.day}: {self.count}"


class WebhookSubscription(models.Model):
    """A webhook subscription the portal created at a provider whose signing secret is per subscription
    (contract: ``POST /webhooks/<provider>/<segment>/``). The URL segment names the row, so the receiver knows
    which secret to verify with before trusting anything in the body. Secrets are encrypted; during a rotation
    ``previous_secret`` still verifies until it is cleared."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    provider = models.CharField(max_length=32)
    segment = models.CharField(max_length=64, unique=True)
    external_id = models.CharField(max_length=255, blank=True, help_text="The provider's id of the subscription.")
    topics = models.JSONField(default=list, blank=True)
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "connection"], name="webhook_sub_connection")]

    def __str__(self) -> str:
        return f"{self.provider} subscription {self.external_id or '?'} ({self.segment[:8]}...)"
