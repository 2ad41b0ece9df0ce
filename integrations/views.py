"""Merchant portal pages. Thin: they resolve the retailer and hand off to services. Every lookup of a connection
goes through the merchant's retailer, so another retailer's connection is a 404, never a 403 that confirms it."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audit import actions as audit_actions
from audit import audited
from inventory.matching.queue import count_unmatched_items

from .health import connections_health, refresh_health
from .live_status import SyncNowRefused, live_status, sync_now
from .models import Connection
from .oauth.disconnect import disconnect
from .oauth.status import attention, token_state
from .providers import all_providers, get_provider
from .sync.failures import resume
from .tenancy import retailer_for_user


def _describe(connection: Connection, health=None) -> Connection:
    provider = get_provider(connection.provider)
    connection.provider_name = provider.name
    connection.token_state = token_state(connection)
    connection.attention = attention(connection)
    connection.reconnect_query = urlencode(provider.reconnect_params(connection))
    connection.health = health
    return connection


def _connectable():
    return [p for p in all_providers() if p.oauth() is not None and p.is_configured()]


def _own(request, pk: int) -> Connection:
    retailer = retailer_for_user(request.user)
    return get_object_or_404(Connection.objects.for_retailer(retailer), pk=pk)


@login_required
def portal_index(request):
    retailer = retailer_for_user(request.user)
    rows = list(Connection.objects.for_retailer(retailer).order_by("provider", "external_account_id"))
    health = connections_health(rows)
    connections = [_describe(c, health[c.pk]) for c in rows]
    return render(request, "portal/index.html",
                  {"retailer": retailer, "connections": connections, "providers": _connectable()})


@login_required
def portal_connection(request, pk: int):
    connection = _own(request, pk)
    status = live_status(connection)
    _describe(connection, status["health"])
    unmatched = count_unmatched_items(connection.retailer_id, connection.provider, connection.external_account_id)
    return render(request, "portal/connection.html",
                  {"retailer": connection.retailer, "connection": connection, "status": status,
                   "streams": status["streams"], "unmatched": unmatched})


@login_required
def portal_connection_status(request, pk: int):
    """JSON polled by the connection page while syncs run (no reload)."""
    return JsonResponse(live_status(_own(request, pk)))


@require_POST
@login_required
def portal_sync_now(request, pk: int):
    connection = _own(request, pk)
    try:
        runs = sync_now(connection, user_id=request.user.pk)
    except SyncNowRefused as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, f"Sync started for {len(runs)} stream(s); this page updates as they run.")
    return redirect("portal-connection", pk=pk)


@require_POST
@login_required
def portal_resume(request, pk: int):
    connection = _own(request, pk)
    names = resume(connection, trigger="manual")
    refresh_health(connection.pk)
    if names:
        messages.success(request, f"Resumed {', '.join(names)}; syncing now.")
    else:
        messages.info(request, "Nothing was paused.")
    return redirect("portal-connection", pk=pk)


@require_POST
@login_required
def portal_disconnect(request, pk: int):
    connection = _own(request, pk)
    name = get_provider(connection.provider).name
    account = connection.display_name or connection.external_account_id
    if connection.status != Connection.Status.DISCONNECTED:
        with audited(audit_actions.DISCONNECT, request=request, connection=connection):
            disconnect(connection, reason=f"merchant {request.user.pk} clicked Disconnect")
        refresh_health(connection.pk)
        if connection.revoke_outcome.startswith("failed"):
            # Never report a failed revoke as done: the app may still be installed at the provider.
            messages.error(request, f"{name} account {account}: ShelfOps stopped syncing it and deleted its "
                           f"access, but {connection.problem}")
            return redirect("portal")
    messages.success(request, f"{name} account {account} is "
                     "disconnected. ShelfOps stopped syncing it and deleted its access; data already synced stays.")
    return redirect("portal")



