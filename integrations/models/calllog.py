from django.db import models

from .connection import Connection


class ApiCallLog(models.Model):
    """One row per attempt of every provider call. URLs are redacted; no token, code, secret or credential
    body is ever stored here."""

    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_calls"
    )
    provider = models.CharField(max_length=32)
    external_account_id = models.CharField(max_length=255, blank=True)
    method = models.CharField(max_length=10)
    url = models.TextField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    retry_reason = models.CharField(max_length=255, blank=True)
    budget_left = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "API call log"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["connection", "-created_at"], name="calllog_connection_recent")]

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status_code}"
