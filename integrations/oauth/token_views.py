"""``POST /integrations/<provider>/token/``: connect with a pasted personal access token (thin: the provider's
``TokenConnect`` does the work). A refused token comes back to the portal as a message, never a 500."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from integrations.providers import get_provider
from integrations.providers.registry import UnknownProvider
from integrations.tenancy import retailer_for_user

from .token_connect import TokenRefused

logger = logging.getLogger("integrations.oauth")


@require_POST
@login_required
def token_connect(request, provider_key: str):
    try:
        provider = get_provider(provider_key)
    except UnknownProvider:
        raise Http404("No such provider") from None
    connector = provider.token_connect() if provider.is_configured() else None
    if connector is None:
        raise Http404("This provider does not take personal access tokens")
    retailer = retailer_for_user(request.user)
    try:
        connection = connector.connect(request=request, retailer=retailer, token=request.POST.get("token", ""))
    except TokenRefused as refused:
        logger.info("%s token connect refused for retailer %s", provider.key, retailer.pk)
        messages.error(request, f"{provider.name}: {refused.reason}")
        return redirect("portal")
    messages.success(request, f"{provider.name} connected. The first sync has started.")
    return redirect("portal-connection", pk=connection.pk)
