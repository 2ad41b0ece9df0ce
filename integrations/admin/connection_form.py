"""The connection form in admin. Provider-specific fields (e.g. a write-only private key upload for
client-credentials connections) and their validation come from the provider descriptors
(``admin_form_fields`` / ``clean_admin_form``); secrets are never shown back (the page says "set")."""

from __future__ import annotations

from django import forms

from integrations.models import Connection
from integrations.providers import all_providers
from integrations.providers.registry import UnknownProvider, get_provider


class BaseConnectionForm(forms.ModelForm):
    class Meta:
        model = Connection
        # Admin narrows these to its fieldsets; secrets are never form fields (keys come in as uploads).
        fields = ["retailer", "provider", "external_account_id", "display_name", "status", "problem", "auth_mode",
                  "scopes", "certificate_id", "settings"]

    def clean(self):
        cleaned = super().clean()
        self._provider_updates = {}
        try:
            provider = get_provider(cleaned.get("provider") or "")
        except UnknownProvider:
            return cleaned  # the model field's own choices validation reports it
        self._provider_updates = provider.clean_admin_form(self, cleaned) or {}
        return cleaned

    def save(self, commit=True):
        for attribute, value in getattr(self, "_provider_updates", {}).items():
            setattr(self.instance, attribute, value)
        return super().save(commit)


def provider_admin_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for provider in all_providers():
        fields.update(provider.admin_form_fields())
    return fields


def connection_form() -> type[BaseConnectionForm]:
    """The form class with every registered provider's fields declared on it (not added in ``__init__``, so the
    admin's fieldsets may name them). Built per request by the admin: the registry decides, not this module."""
    return type("ConnectionForm", (BaseConnectionForm,), provider_admin_fields())


ConnectionForm = connection_form()
