"""No event waits for the sweep because of a row lock it was never meant to meet (issue 18's bench found 1 to 80 of
~4,400 events a run left ``queued`` for 120 s).

PostgreSQL: a ``FOR UPDATE SKIP LOCKED`` read that began before a row became ``queued`` locks the row's new version,
drops it on the recheck and keeps the lock until its transaction ends. A batch processing that row meanwhile skips
it as "locked elsewhere". Claims (and the sweep) now take turns, so none reads a row another has just claimed; and a
batch gives any still-unfinished event it skipped a retry a second later instead of leaving it to the sweep."""

import threading

import pytest
from django.db import connection as db
from django.db import transaction

from integrations.models import WebhookEvent
from integrations.webhooks import dispatch
from integrations.webhooks.batch import process_batch
from integrations.webhooks.processing import process_event
from tests.processes import wait_until

from .helpers import deliver, shopify_order, shopify_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = WebhookEvent.Status


def stored_event(order_id: int) -> WebhookEvent:
    order = shopify_order(order_id, [(order_id, 501, 1, "2.00")], updated_at="2026-09-01T10:00:00Z")
    return deliver("shopify", shopify_request("orders/create", order))


class Session(threading.Thread):
    """Another database session that runs ``sql`` in a transaction and keeps it open until ``release()``."""

    def __init__(self, sql: str, params=()):
        super().__init__(daemon=True)
        self.sql, self.params = sql, params
        self.rows = None
        self.ready, self.done = threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic(), db.cursor() as cursor:
                cursor.execute(self.sql, self.params)
                self.rows = cursor.fetchall()
                self.ready.set()
                self.done.wait(60)
        finally:
            self.ready.set()
            db.close()

    def release(self):
        self.done.set()
        self.join(30)


def backend_waits_on(kind: str) -> bool:
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = %s "
                       "AND pid <> pg_backend_pid()", [kind])
        return cursor.fetchone()[0] > 0


def running(fragment: str) -> bool:
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s "
                       "AND pid <> pg_backend_pid()", [f"%{fragment}%"])
        return cursor.fetchone()[0] > 0


def test_the_hazard_is_real_a_read_that_began_before_the_claim_keeps_the_queued_row_locked(shopify_connection):
    """What the fix is for (PostgreSQL's behaviour, shown here so the reason cannot silently go away): a claim-like
    read that started before the row was claimed returns nothing, yet holds the row until it commits."""
    event = stored_event(7101)
    table = WebhookEvent._meta.db_table
    # The read's snapshot is taken at once; pg_sleep in its filter delays it reaching the row past the claim below.
    late = Session(f"SELECT id FROM {table} WHERE id = %s AND status = 'received' AND pg_sleep(1) IS NOT NULL "
                   f"FOR UPDATE SKIP LOCKED", [event.pk])
    late.start()
    wait_until(lambda: running("pg_sleep(1)"), timeout=30, what="the late read to start (its snapshot taken)")
    assert dispatch.claim_received(10) == [event.pk]
    late.ready.wait(30)
    try:
        assert late.rows == []
        report = process_batch([event.pk])
        assert report.skipped == [event.pk], "the batch met the late read's lock"
    finally:
        late.release()


def test_claims_take_turns(shopify_connection):
    event = stored_event(7102)
    holder = Session("SELECT pg_advisory_xact_lock(%s)", [dispatch.CLAIM_LOCK_KEY])
    holder.start()
    holder.ready.wait(30)
    claimed: list = []
    claimer = threading.Thread(target=lambda: (claimed.extend(dispatch.claim_received(10)), db.close()))
    claimer.start()
    try:
        assert wait_until(lambda: backend_waits_on("advisory"), timeout=30, what="the claim to wait for its turn")
        assert claimed == []
    finally:
        holder.release()
    claimer.join(30)
    assert claimed == [event.pk]


def test_a_skipped_unfinished_event_is_retried_shortly_and_then_processed(shopify_connection, settings):
    settings.WEBHOOK_SKIPPED_RECHECK_SECONDS = 1.0
    event = stored_event(7103)
    assert dispatch.claim_received(10) == [event.pk]
    locker = Session(f"SELECT id FROM {WebhookEvent._meta.db_table} WHERE id = %s FOR UPDATE", [event.pk])
    locker.start()
    locker.ready.wait(30)
    try:
        report = process_batch([event.pk])
    finally:
        locker.release()
    assert report.skipped == [event.pk] and report.retries == {event.pk: 1.0}
    assert process_event(event.pk).status == Status.PROCESSED


def test_a_skipped_final_event_gets_no_retry(shopify_connection):
    event = stored_event(7104)
    assert dispatch.claim_received(10) == [event.pk]
    assert process_batch([event.pk]).statuses == {event.pk: Status.PROCESSED}
    again = process_batch([event.pk])  # a doubly sent batch
    assert again.skipped == [event.pk] and again.retries == {}
