"""Acknowledging a webhook never waits for a lock a sync or a token refresh holds on its connection: those lock the
connection row FOR NO KEY UPDATE, which the foreign-key check of the inbox's INSERT (KEY SHARE) does not wait for.
A plain FOR UPDATE would hold every delivery for that account until the refresh's HTTP call returned."""

import threading

import pytest
from django.db import connection as db
from django.db import transaction
from django.test import override_settings

from integrations.models import Connection, WebhookEvent
from integrations.oauth.locks import connection_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def insert_from_another_connection(connection_id: int) -> BaseException | None:
    """Store an event for the connection from another database session, giving up on a lock after 2 s."""
    outcome: list[BaseException | None] = [None]

    def work():
        try:
            with db.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            WebhookEvent.objects.create(provider="shopify", connection_id=connection_id, event_id="lock-probe",
                                        topic="orders/create", body=b"{}")
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome[0] = exc
        finally:
            db.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    return outcome[0]


@override_settings(REDIS_URL="")  # the database lock is the one without Redis
def test_a_held_refresh_lock_does_not_block_storing_the_connections_webhooks(shopify_connection):
    with connection_lock(shopify_connection.pk):
        assert insert_from_another_connection(shopify_connection.pk) is None
    assert WebhookEvent.objects.filter(event_id="lock-probe", connection=shopify_connection).exists()


def test_the_probe_does_see_a_lock_that_blocks_the_insert(shopify_connection):
    """The check above can fail: a FOR UPDATE lock on the same row makes the same insert give up."""
    with transaction.atomic():
        Connection.objects.select_for_update().filter(pk=shopify_connection.pk).first()
        error = insert_from_another_connection(shopify_connection.pk)
    assert error is not None and "lock" in str(error).lower()
