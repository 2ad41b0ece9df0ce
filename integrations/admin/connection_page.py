"""The connection's change page: its streams, recent runs, webhooks, API calls and mappings, and its actions as
buttons. Each button runs the same admin action the list offers (one connection as the queryset), so there is
one implementation of "sync now", "refresh token", "disconnect"...; disconnecting asks for confirmation first."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from integrations.models import ApiCallLog, Connection, SyncRun, WebhookEvent
from integrations.sync.drift import summary as drift_summary
from integrations.templatetags.portal import every
from inventory.models import ProductMapping, StoreMapping

from . import connection_actions, sync_actions
from .display import http_status_badge, status_badge
from .drift_display import drift_html

RECENT = 10
# key -> (button label, admin action, needs confirmation)
BUTTONS = {
    "sync": ("Sync now", sync_actions.sync_now, False),
    "full_resync": ("Full resync", sync_actions.full_resync, False),
    "test": ("Test connection", connection_actions.test_connection, False),
    "refresh": ("Refresh token", connection_actions.refresh_token_now, False),
    "pause": ("Pause syncing", connection_actions.pause_syncing, False),
    "resume": ("Resume syncing", connection_actions.resume_syncing, False),
    "disconnect": ("Disconnect…", connection_actions.disconnect_connections, True),
}


def related(connection: Connection) -> dict:
    runs = list(SyncRun.objects.filter(connection=connection)[:RECENT])
    schedules = []
    for s in connection.schedules.order_by("stream"):
        # One index range scan each (syncrun_conn_stream); a provider has a handful of streams.
        latest = SyncRun.objects.filter(connection=connection, stream=s.stream).first()
        schedules.append({"schedule": s, "interval": every(s.interval_seconds) if s.enabled else "paused",
                          "latest": latest, "badge": status_badge(latest) if latest else "never"})
    product = ProductMapping.objects.filter(provider=connection.provider,
                                            external_account_id=connection.external_account_id)
    store = StoreMapping.objects.filter(provider=connection.provider,
                                        external_account_id=connection.external_account_id)
    counts = {
        "products": product.aggregate(total=Count("pk"), unmapped=Count("pk", filter=Q(product__isnull=True))),
        "stores": store.aggregate(total=Count("pk"), unmapped=Count("pk", filter=Q(store__isnull=True))),
    }
    mapping_query = f"provider__exact={connection.provider}&external_account_id={connection.external_account_id}"
    checked = SyncRun.objects.filter(connection=connection, drift__isnull=False).first()
    return {
        "streams": schedules,
        "runs": [(r, status_badge(r), drift_summary(r.drift)) for r in runs],
        # The latest stock check's report (integrations.sync.reconcile), with its sample of drifted levels.
        "stock_check": {"run": checked, "html": drift_html(checked.drift)} if checked else None,
        "webhooks": [(e, status_badge(e)) for e in WebhookEvent.objects.filter(connection=connection)[:RECENT]],
        "calls": [(c, http_status_badge(c.status_code)) for c in ApiCallLog.objects.filter(connection=connection)
                  [:RECENT]],
        "mappings": counts,
        "links": {
            "runs": f"{reverse('admin:integrations_syncrun_changelist')}?connection__id__exact={connection.pk}",
            "webhooks": f"{reverse('admin:integrations_webhookevent_changelist')}?connection__id__exact="
                        f"{connection.pk}",
            "calls": f"{reverse('admin:integrations_apicalllog_changelist')}?connection__id__exact={connection.pk}",
            "products": f"{reverse('admin:inventory_productmapping_changelist')}?{mapping_query}",
            "products_unmapped": f"{reverse('admin:inventory_productmapping_changelist')}?{mapping_query}&mapped=no",
            "stores": f"{reverse('admin:inventory_storemapping_changelist')}?{mapping_query}",
        },
        "status_badge": status_badge(connection),
        "buttons": [(key, label, confirm) for key, (label, _, confirm) in BUTTONS.items()],
    }


class ConnectionPageMixin:
    """For ConnectionAdmin: the related panels on the change page and one POST URL per action button."""

    change_form_template = "admin/integrations/connection/change_form.html"

    def get_urls(self):
        urls = super().get_urls()
        mine = [path("<path:object_id>/do/<str:action>/", self.admin_site.admin_view(self.run_button),
                     name="integrations_connection_button")]
        return mine + urls

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = self.get_object(request, object_id)
        if connection is not None:
            extra_context = {**(extra_context or {}), "console": related(connection)}
        return super().change_view(request, object_id, form_url, extra_context)

    def run_button(self, request, object_id, action):
        if action not in BUTTONS:
            raise Http404("No such action.")
        connection = self.get_object(request, object_id)
        if connection is None:
            raise Http404("No such connection.")
        if not self.has_change_permission(request, connection):
            raise Http404("No such connection.")
        label, func, confirm = BUTTONS[action]
        back = reverse("admin:integrations_connection_change", args=[connection.pk])
        if request.method == "GET" and confirm:
            context = {**self.admin_site.each_context(request), "opts": self.model._meta, "connection": connection,
                       "label": label, "back": back, "title": f"{label.rstrip('…')} {connection}?"}
            return TemplateResponse(request, "admin/integrations/connection/confirm_action.html", context)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if confirm and request.POST.get("confirmed") != "yes":
            self.message_user(request, "Not confirmed: nothing was done.", messages.WARNING)
            return redirect(back)
        func(self, request, Connection.objects.filter(pk=connection.pk))
        return redirect(back)

