"""Secrets are never shown back in admin: only whether one is set."""

from django.contrib import admin


def secret_state(field_name: str, label: str):
    """A ModelAdmin method (assign it as a class attribute) showing "set" / "not set" for a secret field."""

    @admin.display(description=label)
    def _display(model_admin, obj):
        return "set" if getattr(obj, field_name) else "not set"

    _display.__name__ = f"{field_name}_state"
    return _display
