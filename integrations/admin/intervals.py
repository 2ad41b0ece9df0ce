"""Schedule intervals edited in words ("15 minutes", "every 2 hours", "daily") and stored in seconds."""

from __future__ import annotations

import re

from django import forms

from integrations.templatetags.portal import every

UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hr": 3600, "hour": 3600,
         "d": 86400, "day": 86400, "w": 604800, "week": 604800}
NAMED = {"hourly": 3600, "daily": 86400, "weekly": 604800}
PATTERN = re.compile(r"^(?:every\s+)?(?:(\d+)\s*)?([a-z]+?)s?$")


def parse_interval(text: str) -> int:
    """Seconds for "15 minutes", "every hour", "2h", "daily" or a bare number of seconds; ValueError otherwise."""
    text = " ".join(str(text).strip().lower().split())
    if text.isdigit():
        return int(text)
    if text in NAMED:
        return NAMED[text]
    match = PATTERN.match(text)
    if not match or match.group(2) not in UNITS:
        raise ValueError(text)
    return int(match.group(1) or 1) * UNITS[match.group(2)]


def in_words(seconds) -> str:
    return every(seconds).removeprefix("every ") if seconds not in (None, "") else ""


class IntervalInput(forms.TextInput):
    def format_value(self, value):
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            words = in_words(int(value))
            return "1 " + words if words in ("second", "minute", "hour", "day") else words
        return value


class IntervalField(forms.Field):
    widget = IntervalInput(attrs={"size": 12, "placeholder": "e.g. 15 minutes"})
    default_error_messages = {"invalid": 'Write an interval such as "90 seconds", "15 minutes", "2 hours" or "daily".'}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, int):
            return value
        try:
            return parse_interval(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
