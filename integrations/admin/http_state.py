"""Connection admin: the provider account's circuit breaker, read from the shared store (Redis or database)."""

from django.contrib import admin


@admin.display(description="circuit breaker")
def circuit_breaker(obj) -> str:
    from integrations.http.status import breaker_status

    if obj is None or not obj.pk:
        return "-"
    return breaker_status(obj)


@admin.display(description="breaker")
def breaker_badge(obj) -> str:
    """The breaker as a short badge for lists; the full sentence is its tooltip and on the change page."""
    from .display import badge

    text = circuit_breaker(obj)
    if text.startswith("OPEN"):
        short, tone = "open", "bad"
    elif text.startswith("half-open"):
        short, tone = "half-open", "warn"
    elif text.startswith("closed"):
        short, tone = "closed", "ok" if text == "closed" else "warn"
    else:
        short, tone = "unknown", "muted"
    from django.utils.html import format_html

    return format_html('<span title="{}">{}</span>', text, badge(short, short, tone))
