"""Admin actions on connections: refresh token now, test connection, disconnect. Messages name the connection and
the outcome, never a token."""

from django.contrib import admin, messages
from django.db import transaction

from audit import actions as audit_actions
from audit import audited, record
from integrations.models import Connection
from integrations.oauth.base import TokenEndpointError
from integrations.oauth.disconnect import disconnect
from integrations.oauth.tokens import flow_for, refresh_connection


@admin.action(description="Refresh token now")
def refresh_token_now(modeladmin, request, queryset):
    from integrations.http.errors import ProviderAuthError

    for connection in queryset:
        if not connection.refresh_token:
            modeladmin.message_user(request, f"{connection}: no refresh token to use.", messages.WARNING)
            continue
        try:
            with audited(audit_actions.TOKEN_REFRESH, request=request, connection=connection):
                refresh_connection(connection, force=True)
        except ProviderAuthError:
            modeladmin.message_user(request, f"{connection}: refresh failed ({connection.get_status_display()}): "
                                    f"{connection.last_refresh_error}", messages.ERROR)
            continue
        modeladmin.message_user(request, f"{connection}: refreshed, expires {connection.token_expires_at}.",
                                messages.SUCCESS)


@admin.action(description="Test connection (a cheap authenticated call)")
def test_connection(modeladmin, request, queryset):
    from integrations.http.errors import ProviderError

    for connection in queryset:
        if connection.status == Connection.Status.DISCONNECTED:
            modeladmin.message_user(request, f"{connection}: disconnected, nothing to test.", messages.WARNING)
            continue
        try:
            with audited(audit_actions.TEST_CONNECTION, request=request, connection=connection):
                result = flow_for(connection).test_connection(connection)
        except (ProviderError, TokenEndpointError) as exc:
            status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
            # The problem the refresh recorded (e.g. "Square access was revoked...: reconnect.") says what to do.
            problem = f" {connection.problem}" if connection.problem else ""
            modeladmin.message_user(request, f"{connection}: failed ({exc.__class__.__name__}"
                                    f"{f', HTTP {status}' if status else ''}).{problem}", messages.ERROR)
            continue
        # A successful test is proof the provider is back: resume streams paused after repeated failures.
        from integrations.sync.failures import resume

        resumed = resume(connection, trigger="recovery")
        note = f" Resumed paused streams: {', '.join(resumed)}." if resumed else ""
        modeladmin.message_user(request, f"{connection}: OK. {result}{note}", messages.SUCCESS)


@admin.action(description="Disconnect (revoke at the provider, delete tokens, stop syncing)")
def disconnect_connections(modeladmin, request, queryset):
    done = 0
    for connection in queryset.exclude(status=Connection.Status.DISCONNECTED):
        with audited(audit_actions.DISCONNECT, request=request, connection=connection):
            disconnect(connection, reason=f"staff {request.user.pk} in admin")
        if connection.revoke_outcome.startswith("failed"):
            modeladmin.message_user(request, f"{connection}: revoke at the provider FAILED "
                                    f"({connection.revoke_outcome.removeprefix('failed: ')}); tokens deleted here, "
                                    "the app may still be installed there.", messages.ERROR)
        done += 1
    modeladmin.message_user(request, f"Disconnected {done} connection(s); synced data is kept.", messages.SUCCESS)


@admin.action(description="Pause syncing (disable every stream's schedule)")
def pause_syncing(modeladmin, request, queryset):
    from integrations.models import SyncSchedule

    paused = 0
    for connection in queryset:
        with transaction.atomic():
            changed = SyncSchedule.objects.filter(connection=connection, enabled=True).update(enabled=False)
            if changed:
                record(audit_actions.SYNC_PAUSE, request=request, connection=connection, streams=changed)
        paused += changed
    modeladmin.message_user(request, f"Paused {paused} stream schedule(s); running syncs finish.", messages.SUCCESS)


@admin.action(description="Resume syncing (enable every stream's schedule, due now)")
def resume_syncing(modeladmin, request, queryset):
    from django.utils import timezone

    from integrations.models import SyncSchedule

    active = queryset.filter(status=Connection.Status.ACTIVE)
    skipped = queryset.count() - active.count()
    resumed = 0
    for connection in active:
        with transaction.atomic():
            changed = SyncSchedule.objects.filter(connection=connection, enabled=False).update(
                enabled=True, next_run_at=timezone.now())
            if changed:
                record(audit_actions.SYNC_RESUME, request=request, connection=connection, streams=changed)
        resumed += changed
    text = f"Resumed {resumed} stream schedule(s)"
    if skipped:
        text += f"; {skipped} connection(s) not active, left paused"
    modeladmin.message_user(request, text + ".", messages.SUCCESS if not skipped else messages.WARNING)
