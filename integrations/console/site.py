"""The ShelfOps admin site: the stock Django admin with a "ShelfOps" header and the operations dashboard as its
home page. Installed in place of ``django.contrib.admin`` (``ConsoleAdminConfig``) so every ``admin.register``
in the project lands on it unchanged."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class ShelfOpsAdminSite(admin.AdminSite):
    site_header = "ShelfOps"
    site_title = "ShelfOps admin"
    index_template = "admin/shelfops/dashboard.html"

    def index(self, request, extra_context=None):
        from . import charts, dashboard

        window = charts.window_from(request.GET.get("window"))
        extra_context = {
            **(extra_context or {}),
            "dashboard": dashboard.build(),
            "charts": charts.build(window),
            "chart_window": window,
            "chart_windows": charts.WINDOWS,
        }
        return super().index(request, extra_context)


class ConsoleAdminConfig(AdminConfig):
    default_site = "integrations.console.site.ShelfOpsAdminSite"

    def ready(self):
        super().ready()
        # Every process (web, worker, beat) sets up Django; tasks' log lines get their task name and id.
        from . import celery_logs, tasks  # noqa: F401  (tasks: not under an autodiscovered package)
