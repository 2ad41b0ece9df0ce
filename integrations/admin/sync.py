from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from audit import actions as audit_actions
from audit import record
from integrations.models import SyncCursor, SyncRun, SyncSchedule
from integrations.providers import get_provider
from integrations.sync.drift import summary as drift_summary

from .display import pretty_json, status_badge
from .drift_display import drift_html
from .health_filters import StreamHealthFilter
from .intervals import IntervalField
from .live import LiveRefreshMixin
from .sync_actions import run_schedules_now

REFRESH_SECONDS = 3


def run_rate(run: SyncRun) -> float | None:
    """Records per second so far (or over the whole run once finished)."""
    if not run.started_at:
        return None
    end = run.finished_at or run.heartbeat_at or timezone.now()
    seconds = (end - run.started_at).total_seconds()
    return run.records_seen / seconds if seconds > 0 else None


@admin.register(SyncRun)
class SyncRunAdmin(LiveRefreshMixin, admin.ModelAdmin):
    # Fits 1280 px: the status and count columns matter most; "progress" says records, pages and rate.
    list_display = ["id", "connection", "stream", "status_badge", "trigger", "finished_at", "progress",
                    "records_created", "records_updated", "records_held", "records_refused"]
    live_statuses = ("queued", "running")
    list_filter = ["status", "stream", "trigger", "connection__provider", "connection__retailer"]
    search_fields = ["connection__external_account_id", "error"]
    list_select_related = ["connection__retailer"]
    readonly_fields = ["progress", "drift_report", "cursor_before_json", "cursor_after_json",
                       *[f.name for f in SyncRun._meta.fields]]
    fieldsets = [
        (None, {"fields": ["connection", "stream", "status", "progress", "full", "trigger", "task_id", "error"]}),
        ("Timing", {"fields": ["created_at", "started_at", "heartbeat_at", "finished_at"]}),
        ("Counts", {"fields": ["pages", "records_seen", "records_created", "records_updated", "records_unchanged",
                               "records_held", "records_refused", "refused_samples"]}),
        ("Cursor", {"fields": ["cursor_before_json", "cursor_after_json"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None or obj.drift is None:
            return self.fieldsets
        # A stock check: its drift report right after the outcome, where staff look first.
        return [self.fieldsets[0], ("Stock check: drift from the provider's snapshot", {"fields": ["drift_report"]}),
                *self.fieldsets[1:]]

    @admin.display(description="drift")
    def drift_report(self, run: SyncRun) -> str:
        return drift_html(run.drift)

    @admin.display(description="status", ordering="status")
    def status_badge(self, run: SyncRun) -> str:
        return status_badge(run)

    @admin.display(description="cursor before")
    def cursor_before_json(self, run: SyncRun) -> str:
        return pretty_json(run.cursor_before, summary="cursor", open_=True)

    @admin.display(description="cursor after")
    def cursor_after_json(self, run: SyncRun) -> str:
        return pretty_json(run.cursor_after, summary="cursor", open_=True)
    # While a run is going its page reloads itself, so staff watch records, pages and rate move.
    change_form_template = "admin/integrations/syncrun/change_form.html"

    @admin.display(description="progress")
    def progress(self, run: SyncRun) -> str:
        rate = run_rate(run)
        if run.drift is not None:
            return drift_summary(run.drift)
        text = f"{run.records_seen} records, {run.pages} pages"
        if rate is not None:
            text += f", {rate:,.0f}/s"
        if run.status == SyncRun.Status.RUNNING and run.heartbeat_at:
            age = (timezone.now() - run.heartbeat_at).total_seconds()
            text += f", last page {age:.0f}s ago"
        return text

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        active = run is not None and run.status in (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)
        extra_context = {**(extra_context or {}), "auto_refresh_seconds": REFRESH_SECONDS if active else None}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # View only: saving the form would write every column back over the worker's live counts.
        return False


@admin.register(SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    list_display = ["connection", "stream", "value", "version", "updated_at"]
    list_filter = ["stream", "connection__provider"]
    search_fields = ["connection__external_account_id"]
    list_select_related = ["connection__retailer"]
    readonly_fields = ["version", "updated_at"]


class IntervalInWordsMixin:
    """Schedule intervals are typed and shown in words ("15 minutes"), stored in seconds."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "interval_seconds":
            return IntervalField(label="interval", help_text='e.g. "90 seconds", "15 minutes", "2 hours", "daily"')
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(SyncSchedule)
class SyncScheduleAdmin(IntervalInWordsMixin, admin.ModelAdmin):
    list_display = ["connection", "stream", "enabled", "interval_seconds", "next_run_at", "last_run_at",
                    "last_outcome", "runs"]
    list_filter = [StreamHealthFilter, "enabled", "stream", "connection__provider", "connection__retailer"]
    search_fields = ["connection__external_account_id"]
    list_select_related = ["connection__retailer"]
    list_editable = ["enabled", "interval_seconds"]
    actions = [run_schedules_now]
    show_full_result_count = False
    # Kept by the failure handling (integrations.sync.failures), not typed by staff: "Resume" clears them.
    readonly_fields = ["consecutive_failures", "failing_since", "paused_at", "paused_reason"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "enabled" in form.changed_data:
            record_pause_or_resume(request, obj)

    @admin.display(description="runs")
    def runs(self, schedule: SyncSchedule) -> str:
        return format_html(
            '<a href="../syncrun/?connection__id__exact={}&stream={}">history</a>', schedule.connection_id,
            schedule.stream)


class SyncScheduleInlineForm(forms.ModelForm):
    """The schedule inline on a connection: a stream name the provider knows, an interval no shorter than a
    minute (the dispatcher runs every 30 s; shorter would only queue skipped runs)."""

    MIN_INTERVAL_SECONDS = 60

    class Meta:
        model = SyncSchedule
        fields = ["stream", "enabled", "interval_seconds", "next_run_at"]
        widgets = {"stream": forms.TextInput(attrs={"size": 14})}  # stream names are short; the default is 40em

    def clean_interval_seconds(self):
        value = self.cleaned_data["interval_seconds"]
        if value < self.MIN_INTERVAL_SECONDS:
            raise forms.ValidationError(f"At least {self.MIN_INTERVAL_SECONDS} seconds.")
        return value

    def clean(self):
        cleaned = super().clean()
        connection = getattr(self.instance, "connection", None) or cleaned.get("connection")
        stream = cleaned.get("stream")
        if connection is not None and stream and stream not in get_provider(connection.provider).schedule_defaults:
            names = ", ".join(get_provider(connection.provider).schedule_defaults)
            self.add_error("stream", f"{connection.provider} streams are: {names}.")
        return cleaned


@admin.display(description="latest run")
def latest_run(schedule: SyncSchedule) -> str:
    if not schedule.pk:
        return "-"
    run = SyncRun.objects.filter(connection_id=schedule.connection_id, stream=schedule.stream).first()
    if run is None:
        return "never"
    return format_html('<a href="{}">{}</a> {}', reverse("admin:integrations_syncrun_change", args=[run.pk]),
                       run.get_status_display(), SyncRunAdmin.progress(None, run))


def record_pause_or_resume(request, schedule: SyncSchedule) -> None:
    """Staff switched a schedule off (pause) or on (resume): one audit entry, in the admin's save transaction."""
    record(audit_actions.SYNC_RESUME if schedule.enabled else audit_actions.SYNC_PAUSE, request=request,
           connection=schedule.connection, stream=schedule.stream)
