"""rotate_fernet_keys: every secret re-encrypted with the newest key, readable with it alone afterwards."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection as db
from django.utils import timezone

from integrations.crypto import reset_key_caches
from integrations.models import Connection, OAuthSession

from .conftest import make_connection

pytestmark = pytest.mark.django_db


def raw_cipher(table: str, column: str, pk: int) -> bytes:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return bytes(cursor.fetchone()[0])


def test_rotation_leaves_every_secret_readable_under_the_new_key_alone(settings, retailer, merchant_user):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FERNET_KEYS = [old]
    connections = [make_connection(retailer, account=f"M-{i}", access=f"at-{i}", refresh=f"rt-{i}",
                                   private_key=f"pk-{i}" if i % 2 else None) for i in range(7)]
    session = OAuthSession.objects.create(state="s" * 43, provider="square", retailer=retailer, user=merchant_user,
                                          browser_binding="b", code_verifier="verifier-secret", redirect_uri="x",
                                          expires_at=timezone.now())
    before = raw_cipher("integrations_connection", "access_token", connections[0].pk)

    settings.FERNET_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_fernet_keys", "--batch-size", "3", stdout=out)
    report = out.getvalue()
    assert "integrations.Connection: 7 row(s), 17 secret value(s) re-encrypted" in report
    assert "integrations.OAuthSession: 1 row(s), 1 secret value(s)" in report
    assert raw_cipher("integrations_connection", "access_token", connections[0].pk) != before

    settings.FERNET_KEYS = [new]  # the old key is gone
    for i, c in enumerate(connections):
        stored = Connection.objects.get(pk=c.pk)
        assert (stored.access_token, stored.refresh_token) == (f"at-{i}", f"rt-{i}")
        assert stored.private_key == (f"pk-{i}" if i % 2 else None)
    assert OAuthSession.objects.get(pk=session.pk).code_verifier == "verifier-secret"
    assert "at-0" not in report and "verifier-secret" not in report

    settings.FERNET_KEYS = [old]  # and the old key alone no longer reads them: they really moved
    with pytest.raises(InvalidToken):
        Connection.objects.get(pk=connections[0].pk)
    reset_key_caches()
