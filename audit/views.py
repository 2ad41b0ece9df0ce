"""The merchant's "recent activity" page: its own retailer's entries, newest first, nobody else's."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from integrations.tenancy import retailer_for_user

from .actions import LABELS
from .models import AuditEntry

PAGE_SIZE = 50


@login_required
def recent_activity(request):
    retailer = retailer_for_user(request.user)
    entries = AuditEntry.objects.for_retailer(retailer).select_related("actor_user").order_by("-created_at", "-pk")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page:
        entry.label = LABELS.get(entry.action, entry.action)
        if (entry.actor_user is not None and entry.actor_user.is_staff) or entry.actor_label.startswith("command "):
            # The merchant learns that ShelfOps acted, not staff logins or the addresses they work from.
            entry.actor_label, entry.ip_address = "ShelfOps staff", None
    return render(request, "portal/activity.html", {"retailer": retailer, "page": page})
