"""integrations/crypto.py is the one adapter over django-fernet-fields-v2's key caches (the library has no public
way to reset them). These tests pin what it relies on to the installed version, so an upgrade that renames or
stops caching them fails here instead of silently keeping stale keys after a rotation."""

from importlib.metadata import version
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings
from django.utils.functional import cached_property
from fernet_fields import EncryptedField

from integrations.crypto import _CACHED, reset_key_caches
from integrations.models import Connection

PINNED = "0.9"


def test_the_adapter_is_pinned_to_the_installed_library_version():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert f'"django-fernet-fields-v2=={PINNED}"' in pyproject
    assert version("django-fernet-fields-v2") == PINNED, "re-check integrations/crypto.py against the new version"
    for name in _CACHED:
        assert isinstance(EncryptedField.__dict__.get(name), cached_property), name


def test_resetting_the_caches_makes_the_field_use_the_keys_configured_now():
    field = Connection._meta.get_field("access_token")
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    saved = settings.FERNET_KEYS
    try:
        settings.FERNET_KEYS = [first]  # assigned directly: no setting_changed signal, as in a running process
        reset_key_caches()
        token = field.fernet.encrypt(b"secret")
        settings.FERNET_KEYS = [second]
        assert field.fernet.decrypt(token) == b"secret"  # still the cached first key
        reset_key_caches()
        assert field.keys == [second]
        assert field.fernet.encrypt(b"x") and not _decrypts(field, token)
    finally:
        settings.FERNET_KEYS = saved
        reset_key_caches()


def _decrypts(field, token) -> bool:
    try:
        field.fernet.decrypt(token)
    except Exception:  # noqa: BLE001 - InvalidToken: the new key alone cannot read the old cipher
        return False
    return True
