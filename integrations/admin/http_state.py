"""Connection admin: the provider account's circuit breaker, read from the shared store (Redis or database)."""

from django.contrib import admin


@admin.display(description="circuit breaker")
def circuit_breaker(obj) -> str:
    from integrations.http.status import breaker_status

    if obj is None or not obj.pk:
        return "-"
    return breaker_status(obj)
