"""Webhook batches commit without waiting for the disk (shelfops/commit.py); a token refresh inside one makes the
commit durable again."""

import pytest
from django.db import connection, transaction

from integrations.models import WebhookEvent
from integrations.webhooks.batch import process_batch
from shelfops.commit import relaxed_transaction, require_durable_commit

from .helpers import deliver, shopify_order, shopify_request

# Transactional: the setting is per (outermost) transaction, which a plain django_db test would already hold.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_relaxing_lasts_for_the_transaction_and_a_durable_write_restores_it():
    default = synchronous_commit()
    with relaxed_transaction():
        assert synchronous_commit() == "off"
        require_durable_commit()
        assert synchronous_commit() == "on"
    with relaxed_transaction():
        pass
    assert synchronous_commit() == default  # SET LOCAL: gone with its transaction


def test_inside_a_callers_transaction_nothing_is_relaxed():
    with transaction.atomic():
        with relaxed_transaction():
            assert synchronous_commit() == "on"


def test_a_batch_runs_in_a_relaxed_transaction(shopify_connection):
    seen = []

    def spy(execute, sql, params, many, context):
        if "inventory_transaction" in sql:
            seen.append(synchronous_commit_from(context["connection"]))
        return execute(sql, params, many, context)

    events = [deliver("shopify", shopify_request("orders/create", shopify_order(
        9100 + n, [(n * 10 + 1, 501, 2, "4.00")], updated_at="2026-09-01T10:00:00Z"))) for n in range(2)]
    with connection.execute_wrapper(spy):
        process_batch([e.pk for e in events])
    assert seen and set(seen) == {"off"}
    assert set(WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).values_list("status", flat=True)) == {
        "processed"}


def synchronous_commit_from(conn) -> str:
    with conn.connection.cursor() as cursor:  # the driver's own cursor: not through the wrapper again
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]
