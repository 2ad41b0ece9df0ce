"""Cursor pages: every row exactly once, in order, even with ties and with rows inserted while a client pages;
the changes feed (updated_since + ordering=updated_at) misses no change, including changes committed while the
client was paging."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import Transaction

from .conftest import T0, build_tenant, token_client

pytestmark = pytest.mark.django_db


def walk(client, url, *, on_page=None):
    ids, answer, pages = [], client.get(url), 0
    while True:
        assert answer.status_code == 200, answer.content
        body = answer.json()
        ids.extend(r["id"] for r in body["results"])
        pages += 1
        if on_page:
            on_page(pages)
        if not body["has_more"]:
            return ids, body["next"]
        answer = client.get(body["next"])


def line(data, n, occurred_at, **extra):
    return Transaction.objects.create(
        retailer=data.retailer, store=data.stores[0], source="square", external_account_id="acme-merchant",
        external_order_id=f"extra-{n}", external_line_id="0", quantity=Decimal(1), occurred_at=occurred_at, **extra
    )


def test_every_row_once_in_order_with_ties(acme, acme_client):
    same_time = T0 + timedelta(days=5)
    for n in range(7):  # ties on the ordering key are broken by id
        line(acme, n, same_time)
    expected = list(
        Transaction.objects.filter(retailer=acme.retailer).order_by("occurred_at", "id").values_list("id", flat=True)
    )
    for size in (1, 2, 3, 1000):
        ids, _ = walk(acme_client, f"/api/v1/transactions/?page_size={size}")
        assert ids == expected
    descending, _ = walk(acme_client, "/api/v1/transactions/?page_size=4&ordering=-occurred_at")
    assert descending == expected[::-1]


def test_pages_are_stable_under_inserts(acme, acme_client):
    before = set(Transaction.objects.filter(retailer=acme.retailer).values_list("id", flat=True))
    inserted_late = []

    def insert_while_paging(page):
        if page == 2:
            # One row sorting before the cursor (already passed: must not shift or repeat pages) and one after.
            line(acme, 100, T0 - timedelta(days=1))
            inserted_late.append(line(acme, 101, T0 + timedelta(days=30)).pk)

    ids, _ = walk(acme_client, "/api/v1/transactions/?page_size=3", on_page=insert_while_paging)
    assert len(ids) == len(set(ids)), "a row was served twice"
    assert set(ids) == before | set(inserted_late)


def test_filtered_by_store_and_date_range_pages_through_the_index_order(acme, acme_client):
    store = acme.stores[1]
    after, before = T0 + timedelta(minutes=30), T0 + timedelta(minutes=55)
    expected = list(
        Transaction.objects.filter(retailer=acme.retailer, store=store, occurred_at__gte=after,
                                   occurred_at__lt=before).order_by("occurred_at", "id").values_list("id", flat=True)
    )
    assert len(expected) >= 2
    window = f"occurred_after={after:%Y-%m-%dT%H:%M:%SZ}&occurred_before={before:%Y-%m-%dT%H:%M:%SZ}"
    ids, _ = walk(acme_client, f"/api/v1/transactions/?store={store.pk}&{window}&page_size=1")
    assert ids == expected


def test_changes_feed_follows_updates_made_while_paging_and_after(acme, acme_client):
    first_seen = acme.transactions[0]
    updated_during = []

    def update_while_paging(page):
        if page == 2:
            first_seen.state = Transaction.State.REFUNDED
            first_seen.save()  # bumps updated_at past the cursor: it must come round again
            updated_during.append(first_seen.pk)

    url = "/api/v1/transactions/?updated_since=2000-01-01T00:00:00Z&page_size=4"
    ids, resume = walk(acme_client, url, on_page=update_while_paging)
    assert set(ids) == {t.pk for t in acme.transactions}
    assert ids.count(first_seen.pk) == 2  # once originally, once after its update
    assert resume, "the last page of the changes feed gives a resume point"

    # Later: a new row and another update arrive; polling the resume point returns exactly those.
    new = line(acme, 200, T0)
    acme.transactions[3].save()
    later = acme_client.get(resume).json()
    assert [r["id"] for r in later["results"]] == [new.pk, acme.transactions[3].pk]
    assert acme_client.get(later["next"]).json()["results"] == []


def test_settle_window_holds_back_rows_just_written(acme, acme_client, settings):
    settings.API_CHANGES_SETTLE_SECONDS = 3600
    assert acme_client.get("/api/v1/transactions/?updated_since=2000-01-01T00:00:00Z").json()["results"] == []
    settings.API_CHANGES_SETTLE_SECONDS = 0
    assert acme_client.get("/api/v1/transactions/?updated_since=2000-01-01T00:00:00Z").json()["results"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_late_is_not_skipped(retailer):
    """A writer stamps updated_at, then commits later. A client paging meanwhile must not move its cursor past
    that row: the feed stops at the oldest open writing transaction and serves the row once it commits."""
    data = build_tenant(retailer, prefix="acme", stores=1, products=2, lines_per_pair=1)
    client = token_client(retailer)
    slow_row = data.transactions[0]
    stamped, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                Transaction.objects.filter(pk=slow_row.pk).update(state="cancelled", updated_at=timezone.now())
                stamped.set()
                release.wait(30)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert stamped.wait(30)
        fast_row = data.transactions[1]
        fast_row.save()  # committed at once, stamped after the slow row
        url = "/api/v1/transactions/?updated_since=2000-01-01T00:00:00Z&page_size=100"
        body = client.get(url).json()
        served = [r["id"] for r in body["results"]]
        assert fast_row.pk not in served, "served a row newer than an uncommitted change: the cursor would skip it"
        release.set()
        assert done.wait(30)
        resumed = client.get(body["next"]).json() if body["next"] else client.get(url).json()
        changes = [(r["id"], r["state"]) for r in resumed["results"]]
        assert (slow_row.pk, "cancelled") in changes and fast_row.pk in dict(changes)
    finally:
        release.set()
        thread.join(30)
