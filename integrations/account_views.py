"""Merchant self-service: API tokens for their retailer (create with a name, the key shown once, revoke) and a link
to the API docs. Password change and reset by e-mail are Django's own auth views (wired in integrations/urls.py).
Tokens made here are never staff tokens: staff-only endpoints stay with tokens staff issue in admin."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audit import actions as audit_actions
from audit import record
from inventory.models import ApiToken

from .tenancy import retailer_for_user


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True, help_text="What uses it, e.g. \"forecasting\".")


def _tokens(retailer):
    return ApiToken.objects.filter(retailer=retailer, is_staff_token=False).order_by("revoked_at", "-created_at")


@login_required
def account(request):
    retailer = retailer_for_user(request.user)
    form, new_key = TokenForm(), None
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            # The key is rendered in this response only (no redirect, no message cookie): it exists in clear
            # nowhere else, the database keeps its hash.
            with transaction.atomic():
                token, new_key = ApiToken.issue(retailer, name=form.cleaned_data["name"])
                record(audit_actions.API_TOKEN_CREATED, request=request, retailer=retailer, name=token.name,
                       prefix=token.prefix)
            form = TokenForm()
    return render(request, "portal/account.html",
                  {"retailer": retailer, "tokens": _tokens(retailer), "form": form, "new_key": new_key})


@require_POST
@login_required
def revoke_token(request, pk: int):
    retailer = retailer_for_user(request.user)
    token = get_object_or_404(_tokens(retailer), pk=pk)
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoke()
            record(audit_actions.API_TOKEN_REVOKED, request=request, retailer=retailer, name=token.name,
                   prefix=token.prefix)
    messages.success(request, f"API token \"{token.name}\" ({token.prefix}…) is revoked; calls with it now get 401.")
    return redirect("portal-account")
