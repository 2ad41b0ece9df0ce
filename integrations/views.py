"""Merchant portal pages. Thin: they resolve the retailer and hand off to services."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Connection
from .tenancy import retailer_for_user


@login_required
def portal_index(request):
    retailer = retailer_for_user(request.user)
    connections = Connection.objects.for_retailer(retailer).order_by("provider", "external_account_id")
    return render(request, "portal/index.html", {"retailer": retailer, "connections": connections})
