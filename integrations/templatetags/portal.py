from django import template

register = template.Library()

_UNITS = [(86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]


@register.filter
def every(seconds) -> str:
    """A schedule interval in words: 86400 -> "every day", 900 -> "every 15 minutes", 5400 -> "every 90 minutes"."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    for size, unit in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return f"every {seconds} seconds"
