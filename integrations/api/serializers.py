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


class ConnectionSerializer(serializers.ModelSerializer):
    provider_name = serializers.SerializerMethodField()
    streams = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "id", "provider", "provider_name", "external_account_id", "display_name", "status", "problem",
            "connected_at", "disconnected_at", "last_successful_sync_at", "streams",
        ]

    def get_provider_name(self, connection) -> str:
        try:
            return get_provider(connection.provider).name
        except UnknownProvider:
            return connection.provider

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
            }
        )
    return rows


class SyncRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRun
        fields = [
            "id", "connection", "stream", "status", "full", "trigger", "created_at", "started_at", "finished_at",
            "pages", "records_seen", "records_created", "records_updated", "records_unchanged", "records_held",
            "error",
        ]


class ApiCallLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiCallLog
        fields = [
            "id", "connection", "provider", "method", "url", "status_code", "duration_ms", "attempt",
            "retry_reason", "budget_left", "request_id", "error", "created_at",
        ]
