from django.db import models

from .connection import Connection


class SyncCursor(models.Model):
    """Where a stream resumes: saved after every page. ``version`` guards against a stale writer."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=64)
    value = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "stream"], name="uniq_cursor_per_stream")]

    def __str__(self) -> str:
        return f"{self.connection} / {self.stream}"


ACTIVE_RUN_STATES = ("queued", "running")
# Runs that moved the stream forward (freshness counts from these).
COMPLETED_RUN_STATES = ("succeeded", "succeeded_with_errors")


class SyncRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        # Finished, but ingest refused some records (count and samples on the run): never reported as plain success.
        SUCCEEDED_WITH_ERRORS = "succeeded_with_errors", "Succeeded with errors"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_runs")
    stream = models.CharField(max_length=64)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.QUEUED, db_index=True)
    full = models.BooleanField(default=False, help_text="Full resync: ignores the saved cursor.")
    trigger = models.CharField(max_length=32, blank=True, help_text="schedule, manual, connect, webhook, command")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    records_seen = models.PositiveIntegerField(default=0)
    records_created = models.PositiveIntegerField(default=0)
    records_updated = models.PositiveIntegerField(default=0)
    records_unchanged = models.PositiveIntegerField(default=0)
    records_held = models.PositiveIntegerField(default=0)
    records_refused = models.PositiveIntegerField(default=0, help_text="Records ingest refused (bad data).")
    refused_samples = models.JSONField(
        default=list, blank=True, help_text="The first few refused records with their errors (no secrets)."
    )
    # Reconciliation runs only (integrations.sync.drift): what the provider's stock snapshot said that our levels
    # did not. Null for every other stream.
    drift = models.JSONField(
        null=True, blank=True, help_text="Stock check: items that differed from the provider's snapshot (counts, "
        "total and largest difference, a sample with ours vs theirs, items missing on either side)."
    )
    cursor_before = models.JSONField(null=True, blank=True)
    cursor_after = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one queued-or-running run per (connection, stream), enforced by the database.
            models.UniqueConstraint(
                fields=["connection", "stream"],
                condition=models.Q(status__in=ACTIVE_RUN_STATES),
                name="uniq_active_run_per_stream",
            )
        ]
        indexes = [
            models.Index(fields=["connection", "stream", "-created_at"], name="syncrun_conn_stream"),
            # Dashboard charts and /metrics read runs by when they finished.
            models.Index(fields=["finished_at"], name="syncrun_finished"),
        ]

    def __str__(self) -> str:
        return f"{self.connection} / {self.stream} ({self.status})"


class SyncSchedule(models.Model):
    """Per-stream schedule state, kept in the portal's own indexed table (not one beat row per stream)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="schedules")
    stream = models.CharField(max_length=64)
    interval_seconds = models.PositiveIntegerField()
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=255, blank=True)
    # Failure handling (integrations.sync.failures): consecutive failed runs; past the limit the stream is paused
    # with a reason until a successful test, a reconnect or a person resumes it.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "stream"], name="uniq_schedule_per_stream")]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="schedule_due")]

    def __str__(self) -> str:
        return f"{self.connection} / {self.stream} every {self.interval_seconds}s"
