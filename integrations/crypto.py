"""Helpers around the encrypted fields (django-fernet-fields-v2).

The library caches its keys and MultiFernet on each field instance (``cached_property`` attributes ``keys``,
``fernet_keys``, ``fernet`` in 0.9; no public way to reset them), so a change of ``FERNET_KEYS`` (a test's
``override_settings`` or the rotation command re-reading settings) must drop those caches. This module is the one
place that knows those names; tests/oauth/test_fernet_adapter.py pins them to the installed library version.
Dropping them uses ``cached_property``'s documented reset (``del`` on the instance attribute).
"""

from django.apps import apps
from django.core.signals import setting_changed
from django.dispatch import receiver
from fernet_fields import EncryptedField

_CACHED = ("keys", "fernet_keys", "fernet")


def encrypted_fields():
    """Every (model, field) pair that holds an encrypted value, across installed apps."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedField):
                yield model, field


def reset_key_caches() -> None:
    for _model, field in encrypted_fields():
        for name in _CACHED:
            try:
                delattr(field, name)  # cached_property: the next read recomputes it from settings
            except AttributeError:  # not computed yet
                pass


@receiver(setting_changed)
def _on_setting_changed(setting, **kwargs):
    if setting in ("FERNET_KEYS", "FERNET_USE_HKDF", "SECRET_KEY"):
        reset_key_caches()
