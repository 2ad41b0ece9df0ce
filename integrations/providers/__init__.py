"""Providers: one package each, registered by key. ``registry`` is the only place that lists them."""

from .registry import all_providers, get_provider, provider_choices

__all__ = ["all_providers", "get_provider", "provider_choices"]
