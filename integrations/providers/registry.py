"""The provider registry. Adding a provider means adding one package under ``providers/`` and naming it in
``PROVIDER_PACKAGES``; nothing else in the portal lists providers.

A package holds ``provider.py`` (the descriptor, registered with ``@register``) and ``settings.py`` with
``declare(env, *, local, sandbox_url) -> {SETTING_NAME: value}``, which shelfops/settings.py calls for every
package before Django is set up (``env`` is the django-environ Env, ``local`` is True unless SHELFOPS_ENV is
"production", ``sandbox_url`` is SANDBOX_URL). This module must stay importable without Django for that."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Provider

PROVIDER_PACKAGES = ["square", "shopify", "netsuite", "shipbob"]

_registry: dict[str, Provider] = {}
_loaded = False


class UnknownProvider(LookupError):
    pass


def register(provider_cls: type[Provider]) -> type[Provider]:
    """Class decorator used by each ``providers/<key>/provider.py``."""
    instance = provider_cls()
    _registry[instance.key] = instance
    return provider_cls


def _load() -> None:
    global _loaded
    if not _loaded:
        for package in PROVIDER_PACKAGES:
            import_module(f"{__package__}.{package}.provider")
        _loaded = True


def get_provider(key: str) -> Provider:
    _load()
    try:
        return _registry[key]
    except KeyError:
        raise UnknownProvider(f"Unknown provider {key!r}") from None


def all_providers() -> list[Provider]:
    _load()
    return list(_registry.values())


def provider_choices() -> list[tuple[str, str]]:
    return [(p.key, p.name) for p in all_providers()]
