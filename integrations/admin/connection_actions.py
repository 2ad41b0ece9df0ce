"""Admin actions on connections: refresh token now, test connection, disconnect. Messages name the connection and
the outcome, never a token."""

from django.contrib import admin, messages

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
        disconnect(connection, reason=f"staff {request.user.pk} in admin")
        done += 1
    modeladmin.message_user(request, f"Disconnected {done} connection(s); synced data is kept.", messages.SUCCESS)
