"""Admin actions on connections for syncing: "sync now" (every stream, incremental) and "full resync"."""

from django.contrib import admin, messages

from audit import actions as audit_actions
from audit import audited
from integrations.models import Connection
from integrations.sync.services import request_all, request_sync, stream_names


def _queue(modeladmin, request, queryset, *, full: bool) -> None:
    for connection in queryset:
        if connection.status != Connection.Status.ACTIVE:
            modeladmin.message_user(
                request, f"{connection}: {connection.get_status_display().lower()}, not synced.", messages.WARNING)
            continue
        with audited(audit_actions.FULL_RESYNC if full else audit_actions.SYNC_NOW, request=request,
                     connection=connection) as entry:
            runs = request_all(connection, full=full, trigger="manual")
            entry.note(queued=[r.stream for r in runs])
        busy = len(stream_names(connection)) - len(runs)
        text = f"{connection}: queued {', '.join(r.stream for r in runs) or 'nothing'}"
        if busy:
            text += f"; {busy} stream(s) already queued or running"
        modeladmin.message_user(request, text + ".", messages.SUCCESS if runs else messages.INFO)


@admin.action(description="Sync now (every stream, from its cursor)")
def sync_now(modeladmin, request, queryset):
    _queue(modeladmin, request, queryset, full=False)


@admin.action(description="Full resync (every stream, ignoring cursors)")
def full_resync(modeladmin, request, queryset):
    _queue(modeladmin, request, queryset, full=True)


@admin.action(description="Run now (the selected streams only, e.g. the stock check)")
def run_schedules_now(modeladmin, request, queryset):
    """One run per selected schedule, from its cursor: the way to ask for a single stream, such as the daily
    stock check (``reconcile_stock``) that "Sync now" leaves to its schedule."""
    queued, busy = [], []
    for schedule in queryset.select_related("connection"):
        connection = schedule.connection
        if connection.status != Connection.Status.ACTIVE:
            busy.append(f"{connection} / {schedule.stream} (connection not active)")
            continue
        with audited(audit_actions.SYNC_NOW, request=request, connection=connection) as entry:
            run = request_sync(connection, schedule.stream, trigger="manual")
            entry.note(queued=[run.stream] if run else [])
        (queued if run else busy).append(f"{connection} / {schedule.stream}")
    if queued:
        modeladmin.message_user(request, f"Queued: {', '.join(queued)}.", messages.SUCCESS)
    if busy:
        modeladmin.message_user(request, f"Not queued (already queued or running, or inactive): {', '.join(busy)}.",
                                messages.INFO)
