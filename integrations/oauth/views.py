"""``GET /integrations/<provider>/connect/`` and ``GET /integrations/<provider>/callback/``.

Thin: resolve the provider and the retailer, then hand off to state, the provider's flow and ``complete_connection``.
Every refusal is a readable 400 page and a log line with the reason; never a traceback, never a code or token.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from audit import actions as audit_actions
from audit import record
from integrations.models import OAuthSession
from integrations.providers import get_provider
from integrations.providers.registry import UnknownProvider
from integrations.tenancy import retailer_for_user

from .base import TokenEndpointError
from .connect import complete_connection, refuse_if_connected_elsewhere
from .errors import OAuthFlowError
from .state import claim_session, record_outcome, start_session

logger = logging.getLogger("integrations.oauth")


def _flow(provider_key: str):
    try:
        flow = get_provider(provider_key).oauth()
    except UnknownProvider:
        raise Http404("No such provider") from None
    if flow is None:
        raise Http404("This provider is not connected through OAuth")
    return flow


def error_page(request, flow, error: OAuthFlowError):
    context = {"provider_name": flow.provider.name if flow else "the provider", "error": error}
    return render(request, "oauth/error.html", context, status=error.status)


# Query values longer than this are no provider's (states, codes and shop domains are well under it).
_MAX_QUERY_VALUE = 4096


def refuse_unreadable_query(query) -> None:
    """A NUL (which PostgreSQL cannot compare or store) or an absurdly long value in the query string is refused
    with a readable page before anything looks it up; the value itself is never echoed or logged."""
    for key, values in query.lists():
        for value in [key, *values]:
            if "\x00" in value or len(value) > _MAX_QUERY_VALUE:
                raise OAuthFlowError(
                    "query_unreadable", f"The link's parameter {key[:40].replace(chr(0), '')!r} is not valid, so "
                    "nothing was connected.")


@require_GET
@login_required
def connect(request, provider_key: str):
    flow = _flow(provider_key)
    if not flow.provider.is_configured():
        # Credentials left out on purpose: the provider is not offered, and its connect URL does not exist.
        raise Http404("This provider is not offered")
    try:
        refuse_unreadable_query(request.GET)
    except OAuthFlowError as error:
        return error_page(request, flow, error)
    try:
        retailer = retailer_for_user(request.user)
    except PermissionDenied:
        return error_page(request, flow, OAuthFlowError(
            "no_retailer", "This login is not linked to a retailer, so it cannot connect systems.", status=403,
            advice="Log in with your retailer's merchant account."))
    try:
        extra = flow.clean_connect_input(request.GET)
        refuse_if_connected_elsewhere(flow.provider, flow.account_hint(extra), retailer.pk)
    except OAuthFlowError as error:
        logger.warning("refused %s connect for retailer %s: %s", flow.provider.key, retailer.pk, error.reason)
        return error_page(request, flow, error)
    session, challenge = start_session(request, provider_key=flow.provider.key, retailer=retailer,
                                       redirect_uri=flow.redirect_uri(), extra=extra, use_pkce=flow.use_pkce)
    logger.info("started %s connect (oauth session %s) for retailer %s", flow.provider.key, session.pk, retailer.pk)
    return HttpResponseRedirect(flow.authorize_url(session, challenge))


@require_GET
def callback(request, provider_key: str):
    flow = _flow(provider_key)
    if not request.user.is_authenticated:
        # Not a login redirect: that would carry the code into the login page's ``next`` URL.
        return _refuse(request, flow, None, OAuthFlowError(
            "not_logged_in", "Your ShelfOps login ended before the connection finished, so nothing was connected.",
            advice="Log in again, then click Connect to start over."))
    try:
        refuse_unreadable_query(request.GET)
        session = claim_session(request, provider_key=flow.provider.key, state=request.GET.get("state"))
    except OAuthFlowError as error:
        return _refuse(request, flow, None, error)
    try:
        denial = flow.denial(request.GET)
        if denial is not None:
            raise denial
        flow.verify_callback(request.GET, session)
        code = request.GET.get("code")
        if not code:
            raise OAuthFlowError("code_missing", f"{flow.provider.name} did not send an authorization code.")
        refuse_if_connected_elsewhere(flow.provider, flow.account_hint(session.extra), session.retailer_id)
        tokens = _exchange(flow, session, code)
        connection = complete_connection(session, flow, tokens, request=request)
    except OAuthFlowError as error:
        return _refuse(request, flow, session, error)
    finally:
        # The verifier has done its job (or the attempt is over): do not keep it around.
        OAuthSession.objects.filter(pk=session.pk).update(code_verifier=None)
    record_outcome(session, f"connected connection {connection.pk}")
    account = connection.display_name or connection.external_account_id
    messages.success(request, f"{flow.provider.name} account {account} is connected. The first sync has been "
                     "queued; data appears as it arrives.")
    return redirect(reverse("portal-connection", args=[connection.pk]))


def _exchange(flow, session, code: str):
    from integrations.http.errors import ProviderError

    try:
        return flow.exchange(session, code)
    except (TokenEndpointError, ProviderError) as exc:
        logger.warning("%s code exchange failed for oauth session %s: %s", flow.provider.key, session.pk,
                       exc.__class__.__name__ + (f" {exc}" if isinstance(exc, TokenEndpointError) else ""))
        raise OAuthFlowError("exchange_failed", f"{flow.provider.name} did not accept the authorization, so "
                             "nothing was connected.", advice="Click Connect to try again; if it keeps failing, "
                             "contact ShelfOps support.") from None


def _refuse(request, flow, session, error: OAuthFlowError):
    user = request.user.pk if request.user.is_authenticated else None
    logger.warning("refused %s callback (oauth session %s, user %s): %s", flow.provider.key,
                   session.pk if session else "-", user, error.reason)
    if session is not None:
        record_outcome(session, error.reason)
        record(audit_actions.CONNECT, request=request, retailer=session.retailer, outcome="failure",
               provider=flow.provider.key, reason=error.reason)
    return error_page(request, flow, error)
