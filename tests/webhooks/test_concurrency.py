"""The same event delivered 10 times at once (threads, real PostgreSQL): one row, one set of transactions."""

import threading

import pytest
from django.db import connection as db_connection
from django.test import Client

from integrations.models import WebhookEvent
from integrations.webhooks.processing import process_event
from inventory.models import Transaction

from .helpers import post, shopify_order, shopify_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(n, work):
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def target(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_same_event_ten_times_concurrently_gives_one_row_and_one_set_of_transactions(shopify_connection):
    order = shopify_order(9001, [(1, 501, 2, "4.50"), (2, 502, 1, "10.00")], updated_at="2026-09-01T10:00:00Z")
    body, headers = shopify_request("orders/create", order, event_id="evt-concurrent")

    statuses = run_concurrently(10, lambda i: post("/webhooks/shopify/", body, headers, client=Client()))
    assert [r.status_code for r in statuses] == [200] * 10
    answers = sorted(r.json()["status"] for r in statuses)
    assert answers.count("duplicate") == 9, answers
    event = WebhookEvent.objects.get()

    # Ten workers handed the same task (redelivery, sweep overlap): the row lock lets exactly one run it.
    outcomes = run_concurrently(10, lambda i: process_event(event.pk).status)
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED and event.attempts == 1, outcomes
    assert Transaction.objects.count() == 2
    assert WebhookEvent.objects.count() == 1
