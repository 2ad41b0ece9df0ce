from django.db import models


class HourlyRollup(models.Model):
    """Per-hour totals behind the dashboard charts, written once an hour has closed (``RolledHour`` marks it), so
    a chart reads a few hundred small rows instead of scanning millions of runs, events and call-log rows."""

    hour = models.DateTimeField()
    series = models.CharField(max_length=32)  # runs, rows, webhooks_received, webhooks_processed, calls
    provider = models.CharField(max_length=32, blank=True)
    label = models.CharField(max_length=32, blank=True)  # run status, call status class
    count = models.BigIntegerField(default=0)
    total = models.FloatField(default=0)  # rows ingested, seconds of webhook lag

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hour", "series", "provider", "label"], name="uniq_hourly_rollup")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.series} {self.provider} {self.label}: {self.count}"


class RolledHour(models.Model):
    """An hour whose rollups are complete (zero rows are not stored, so completeness needs its own mark)."""

    hour = models.DateTimeField(primary_key=True)

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h"
