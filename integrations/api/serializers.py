"""Connection status for API clients. Deliberately an allow-list of fields: tokens, refresh tokens, private keys
and per-connection settings never leave the server."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.models import ApiCallLog, Connection, SyncRun
from integrations.providers.registry import UnknownProvider, get_provider


class StreamStatusSerializer(serializers.Serializer):
    stream = serializers.CharField()
    enabled = serializers.BooleanField(allow_null=True, help_text="Whether the stream is scheduled.")
    interval_seconds = serializers.IntegerField(allow_null=True)
    next_run_at = serializers.DateTimeField(allow_null=True)
    last_run_status = serializers.CharField(allow_null=True)
    last_run_at = serializers.DateTimeField(allow_null=True, help_text="When the latest run finished or started.")
    last_success_at = serializers.DateTimeField(allow_null=True, help_text="When a run last succeeded.")
    last_error = serializers.CharField(allow_blank=True, help_text="Error of the latest run, if it failed.")
    paused_reason = serializers.CharField(allow_blank=True, help_text="Why the stream is paused; empty if not.")


class HealthReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable while the condition holds, e.g. `stale:orders`.")
    state = serializers.CharField(help_text="The state this reason alone would give.")
    text = serializers.CharField(help_text="What is wrong and what to do, in words.")


class HealthSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["healthy", "degraded", "failing", "paused", "needs_reconnect", "pending", "disconnected"]
    )
    label = serializers.CharField()
    reasons = HealthReasonSerializer(many=True)
    changed_at = serializers.DateTimeField(allow_null=True, help_text="When the state last changed.")


class ConnectionSerializer(serializers.ModelSerializer):
    provider_name = serializers.SerializerMethodField()
    health = serializers.SerializerMethodField()
    streams = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "id", "provider", "provider_name", "external_account_id", "display_name", "status", "problem",
            "connected_at", "disconnected_at", "last_successful_sync_at", "health", "streams",
        ]

    def get_provider_name(self, connection) -> str:
        try:
            return get_provider(connection.provider).name
        except UnknownProvider:
            return connection.provider

    @extend_schema_field(HealthSerializer)
    def get_health(self, connection) -> dict:
        """The health stored by the last refresh (after every run and every minute): no query per row. Only a
        connection never refreshed yet is derived on the spot."""
        from integrations.health import connection_health, stored_health

        health = getattr(connection, "derived_health", None)
        if health is None:
            health = stored_health(connection) if connection.health_state else connection_health(connection)
        return {**health.as_json(), "changed_at": connection.health_changed_at}

    @extend_schema_field(StreamStatusSerializer(many=True))
    def get_streams(self, connection):
        return stream_statuses(connection)


def stream_statuses(connection) -> list[dict]:
    """One entry per stream from the prefetched schedules, latest runs and latest successful runs (the view
    prefetches them, so this touches no database)."""
    schedules = {s.stream: s for s in connection.schedules.all()}
    latest = {r.stream: r for r in getattr(connection, "latest_runs", [])}
    succeeded = {r.stream: r for r in getattr(connection, "latest_successes", [])}
    rows = []
    for stream in sorted(set(schedules) | set(latest)):
        schedule, run, ok = schedules.get(stream), latest.get(stream), succeeded.get(stream)
        rows.append(
            {
                "stream": stream,
                "enabled": schedule.enabled if schedule else None,
                "interval_seconds": schedule.interval_seconds if schedule else None,
                "next_run_at": schedule.next_run_at if schedule else None,
                "last_run_status": run.status if run else None,
                "last_run_at": (run.finished_at or run.started_at or run.created_at) if run else None,
                "last_success_at": ok.finished_at if ok else None,
                "last_error": run.error if run and run.status == SyncRun.Status.FAILED else "",
                "paused_reason": schedule.paused_reason if schedule else "",
            }
        )
    return rows


class SyncRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRun
        fields = [
            "id", "connection", "stream", "status", "full", "trigger", "created_at", "started_at", "finished_at",
            "pages", "records_seen", "records_created", "records_updated", "records_unchanged", "records_held",
            "records_refused", "refused_samples", "drift", "error",
        ]


class ApiCallLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiCallLog
        fields = [
            "id", "connection", "provider", "method", "url", "status_code", "duration_ms", "attempt",
            "retry_reason", "budget_left", "request_id", "error", "created_at",
        ]
