"""Live refresh for lists whose rows change under staff's eyes (runs, webhook events): the page reloads itself
every few seconds while rows are in flight, slower otherwise, and never while staff have ticked a row or are
typing (static/shelfops/live.js)."""

ACTIVE_SECONDS = 5
IDLE_SECONDS = 30


class LiveRefreshMixin:
    live_statuses: tuple[str, ...] = ()
    change_list_template = "admin/shelfops/live_change_list.html"

    def changelist_view(self, request, extra_context=None):
        # One indexed EXISTS on the status column: cheap even with millions of rows.
        busy = self.model._default_manager.filter(status__in=self.live_statuses).exists()
        extra_context = {**(extra_context or {}), "live_refresh_seconds": ACTIVE_SECONDS if busy else IDLE_SECONDS}
        return super().changelist_view(request, extra_context)
