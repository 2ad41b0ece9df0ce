"""List filters the dashboard links to: connections by health state, streams that fail, are stale or paused.
Both ask ``integrations.console.health_states`` so a number on the dashboard and the list behind it agree."""

from django.contrib import admin

from integrations.console.health_states import STATES, connection_states, open_breakers, stream_states
from integrations.models import Connection


class ConnectionHealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [*STATES.items(), ("breaker_open", "Circuit breaker open")]

    def queryset(self, request, queryset):
        if self.value() == "breaker_open":  # a cause, not a state: the dashboard's "Open breakers" tile
            active = queryset.filter(status=Connection.Status.ACTIVE)
            return queryset.filter(pk__in=open_breakers(active))
        if self.value() not in STATES:
            return queryset
        ids = [pk for pk, state in connection_states().items() if state == self.value()]
        return queryset.filter(pk__in=ids)


class StreamHealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"
    CHOICES = {"failing": "Latest run failed", "stale": "Freshness breached", "paused": "Paused"}

    def lookups(self, request, model_admin):
        return list(self.CHOICES.items())

    def queryset(self, request, queryset):
        value = self.value()
        if value not in self.CHOICES:
            return queryset
        streams = stream_states()
        if value == "failing":
            ids = [s.schedule_id for s in streams if s.failing]
        elif value == "stale":
            ids = [s.schedule_id for s in streams if s.stale]
        else:
            ids = [s.schedule_id for s in streams if not s.enabled]
        return queryset.filter(pk__in=ids)
