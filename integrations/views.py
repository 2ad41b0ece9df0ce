"""Merchant portal pages. Thin: they resolve the retailer and hand off to services. Every lookup of a connection
goes through the merchant's retailer, so another retailer's connection is a 404, never a 403 that confirms it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inventory.matching.queue import count_unmatched_items

from .models import Connection
from .oauth.disconnect import disconnect
from .oauth.status import attention, token_state
from .providers import all_providers, get_provider
from .tenancy import retailer_for_user


def _describe(connection: Connection) -> Connection:
    provider = get_provider(connection.provider)
    connection.provider_name = provider.name
    connection.token_state = token_state(connection)
    connection.attention = attention(connection)
    connection.connect_input = provider.connect_input
    return connection


def _connectable():
    return [p for p in all_providers() if p.oauth() is not None]


@login_required
def portal_index(request):
    retailer = retailer_for_user(request.user)
    connections = [_describe(c) for c in
                   Connection.objects.for_retailer(retailer).order_by("provider", "external_account_id")]
    return render(request, "portal/index.html",
                  {"retailer": retailer, "connections": connections, "providers": _connectable()})


@login_required
def portal_connection(request, pk: int):
    retailer = retailer_for_user(request.user)
    connection = _describe(get_object_or_404(Connection.objects.for_retailer(retailer), pk=pk))
    schedules = connection.schedules.order_by("stream")
    unmatched = count_unmatched_items(retailer.pk, connection.provider, connection.external_account_id)
    return render(request, "portal/connection.html",
                  {"retailer": retailer, "connection": connection, "schedules": schedules, "unmatched": unmatched})


@require_POST
@login_required
def portal_disconnect(request, pk: int):
    retailer = retailer_for_user(request.user)
    connection = get_object_or_404(Connection.objects.for_retailer(retailer), pk=pk)
    name = get_provider(connection.provider).name
    if connection.status != Connection.Status.DISCONNECTED:
        disconnect(connection, reason=f"merchant {request.user.pk} clicked Disconnect")
    messages.success(request, f"{name} account {connection.display_name or connection.external_account_id} is "
                     "disconnected. ShelfOps stopped syncing it and deleted its access; data already synced stays.")
    return redirect("portal")
