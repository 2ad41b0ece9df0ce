"""The bulk export: the same rows, fields and formats as the paged API for the same filters (NDJSON and CSV, the
database COPY path and the Python path), a resume point from which the changes feed continues without a gap or a
repeat, one export per token at a time, and nothing of another retailer."""

import csv
import io
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.db import connection
from rest_framework.test import APIClient

from inventory.api.export import views as export_views
from inventory.models import InventoryLevel, Product, Store, Transaction

from .conftest import T0, token_client

pytestmark = pytest.mark.django_db

RESOURCES = ["transactions", "inventory-levels", "products", "stores"]


@pytest.fixture(params=["copy", "python"])
def export_path(request, monkeypatch):
    """Both ways rows leave the database: COPY (PostgreSQL) and the serializer loop (SQLite, or a field COPY
    cannot format)."""
    if request.param == "copy":
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL: the COPY path")
    else:
        monkeypatch.setattr(export_views, "_supports_copy", lambda: False)
    return request.param


def paged_rows(client, url):
    rows, answer = [], client.get(url)
    while True:
        assert answer.status_code == 200, answer.content
        body = answer.json()
        rows.extend(body["results"])
        if not body["has_more"]:
            return rows
        answer = client.get(body["next"])


def read_export(response):
    assert response.status_code == 200, getattr(response, "content", b"")
    return b"".join(response.streaming_content)  # the test client closes the response at the end


def ndjson(response):
    lines = read_export(response).decode().splitlines()
    *rows, last = [json.loads(line) for line in lines]
    assert set(last) == {"resume"}, "the stream ends with its resume point"
    assert last["resume"]["rows"] == len(rows)
    return rows, last["resume"]["next"]


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(read_export(response).decode())))


def as_csv(row):
    """How a paged-API row reads back from the CSV export (text; empty = null; booleans as JSON spells them)."""
    def text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return {name: text(value) for name, value in row.items()}


def by_id(rows):
    return sorted(rows, key=lambda row: int(row["id"]))


@pytest.mark.parametrize("resource", RESOURCES)
def test_ndjson_and_csv_equal_the_paged_rows(acme, rival, acme_client, export_path, resource):
    paged = paged_rows(acme_client, f"/api/v1/{resource}/?page_size=7")
    assert paged
    rows, _ = ndjson(acme_client.get(f"/api/v1/{resource}/export/"))
    assert by_id(rows) == by_id(paged)
    assert by_id(csv_rows(acme_client.get(f"/api/v1/{resource}/export/?format=csv"))) == by_id(
        [as_csv(row) for row in paged]
    )
    # Accept: text/csv selects CSV as well
    answer = acme_client.get(f"/api/v1/{resource}/export/", HTTP_ACCEPT="text/csv")
    assert answer["Content-Type"].startswith("text/csv")
    assert len(csv_rows(answer)) == len(paged)


@pytest.mark.parametrize(
    "query",
    ["sku=SKU-1", "occurred_after=2026-10-01T09:20:00Z&occurred_before=2026-10-01T10:00:00Z", "state=completed",
     "updated_since=2000-01-01T00:00:00Z"],
)
def test_filters_select_the_same_rows_as_the_list(acme, acme_client, export_path, query):
    store = acme.stores[1].pk
    for url_query in (query, f"{query}&store={store}"):
        paged = paged_rows(acme_client, f"/api/v1/transactions/?{url_query}")
        rows, _ = ndjson(acme_client.get(f"/api/v1/transactions/export/?{url_query}"))
        assert by_id(rows) == by_id(paged)


def test_values_that_need_care_keep_their_exact_format(acme, acme_client, export_path):
    line = acme.transactions[0]
    Transaction.objects.filter(pk=line.pk).update(
        quantity=Decimal("-2.5"), unit_price=None, occurred_at=T0 + timedelta(microseconds=250),
        sku='comma, "quote"\nnewline \\ backslash ü',
    )
    Product.objects.filter(pk=acme.products[0].pk).update(is_active=False, name="")
    paged = {row["id"]: row for row in paged_rows(acme_client, "/api/v1/transactions/")}
    rows = {row["id"]: row for row in ndjson(acme_client.get("/api/v1/transactions/export/"))[0]}
    assert rows[line.pk] == paged[line.pk]
    assert rows[line.pk]["occurred_at"] == "2026-10-01T09:00:00.000250Z"
    assert rows[line.pk]["quantity"] == "-2.5000" and rows[line.pk]["unit_price"] is None
    exported = {row["id"]: row for row in csv_rows(acme_client.get("/api/v1/transactions/export/?format=csv"))}
    assert exported[str(line.pk)] == as_csv(paged[line.pk])
    products = {row["id"]: row for row in csv_rows(acme_client.get("/api/v1/products/export/?format=csv"))}
    assert products[str(acme.products[0].pk)]["is_active"] == "false"


def test_switching_to_the_changes_feed_misses_nothing_and_repeats_nothing(acme, acme_client, export_path):
    started = acme_client.get("/api/v1/transactions/export/")  # the cut is taken here, the rows read below
    changed = acme.transactions[3]
    Transaction.objects.filter(pk=changed.pk).update(quantity=Decimal(9))
    Transaction.objects.filter(pk=changed.pk).first().save(update_fields=["quantity", "updated_at"])
    added = Transaction.objects.create(
        retailer=acme.retailer, store=acme.stores[0], source="square", external_account_id="acme-merchant",
        external_order_id="late", external_line_id="0", quantity=Decimal(1), occurred_at=T0,
    )
    exported, resume = ndjson(started)
    assert started["Link"] == f'<{resume}>; rel="next"'
    followed = paged_rows(acme_client, resume)
    seen = [row["id"] for row in exported] + [row["id"] for row in followed]
    assert sorted(seen) == sorted(Transaction.objects.filter(retailer=acme.retailer).values_list("id", flat=True))
    assert {row["id"] for row in followed} == {changed.pk, added.pk}
    assert next(row for row in followed if row["id"] == changed.pk)["quantity"] == "9.0000"
    # Later changes arrive on the feed, from the cursor it gave.
    body = acme_client.get(resume).json()
    assert body["next"]
    InventoryLevel.objects.filter(pk=acme.levels[0].pk).update(available=Decimal(3))
    Transaction.objects.get(pk=acme.transactions[0].pk).save()
    assert [row["id"] for row in acme_client.get(body["next"]).json()["results"]] == [acme.transactions[0].pk]


def test_the_resume_point_keeps_the_filters(acme, acme_client, export_path):
    store = acme.stores[0].pk
    _, resume = ndjson(acme_client.get(f"/api/v1/transactions/export/?store={store}&format=ndjson"))
    assert f"store={store}" in resume and "ordering=updated_at" in resume and "format" not in resume
    other_store_line = next(t for t in acme.transactions if t.store_id != store)
    Transaction.objects.get(pk=other_store_line.pk).save()
    assert paged_rows(acme_client, resume) == []


def test_another_retailers_token_exports_only_its_own_rows(acme, rival, export_path):
    rival_client = token_client(rival.retailer)
    rows, _ = ndjson(rival_client.get("/api/v1/transactions/export/"))
    assert {row["id"] for row in rows} == {t.pk for t in rival.transactions}
    assert {row["external_account_id"] for row in rows} == {"rival-merchant"}
    # another retailer's store id is refused like any unknown id, never answered with its rows
    answer = rival_client.get(f"/api/v1/transactions/export/?store={acme.stores[0].pk}")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "store"


def test_one_export_per_token_at_a_time(acme, acme_client):
    first = acme_client.get("/api/v1/products/export/")
    busy = acme_client.get("/api/v1/products/export/")
    assert busy.status_code == 429 and int(busy["Retry-After"]) > 0
    assert busy["Content-Type"] == "application/json" and "one export per token" in busy.json()["detail"]
    other_token = token_client(acme.retailer, name="replenishment")
    assert other_token.get("/api/v1/products/export/").status_code == 200  # per token, not per retailer
    read_export(first)  # finishing (or a disconnect) frees the slot
    read_export(acme_client.get("/api/v1/products/export/"))


def test_bad_requests_get_json_errors_naming_the_parameter(acme, acme_client):
    answer = acme_client.get("/api/v1/transactions/export/?format=xml")
    assert answer.status_code == 400 and answer["Content-Type"] == "application/json"
    assert answer.json()["errors"][0]["field"] == "format"
    answer = acme_client.get("/api/v1/transactions/export/?page_size=10")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "page_size"
    answer = acme_client.get("/api/v1/transactions/export/?occurred_after=yesterday")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "occurred_after"
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token nope")
    assert stranger.get("/api/v1/transactions/export/").status_code == 401


RUNNING_EXPORTS_SQL = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE 'COPY (SELECT%%'
"""


def running_exports():
    with connection.cursor() as cursor:
        cursor.execute(RUNNING_EXPORTS_SQL)
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_client_that_disconnects_frees_the_database_and_its_slot(retailer, live_server):
    """Over real HTTP: a reader that reads a little and hangs up. The COPY behind it is cancelled at once (no
    backend keeps formatting rows for nobody) and the token's export slot is free again."""
    store = Store.objects.create(retailer=retailer, name="Bulk store")
    table = Transaction._meta.db_table
    with connection.cursor() as cursor:  # generated in the database: 200k ORM objects would dominate the test
        cursor.execute(
            f"""INSERT INTO {table} (retailer_id, store_id, source, external_account_id, external_order_id,
                    external_line_id, quantity, unit_price, currency, sku, state, occurred_at, created_at, updated_at,
                    refund_of_order_id, refund_of_line_id)
                SELECT %s, %s, 'square', 'bulk', 'O' || n, '0', 1, 2.5, 'USD', 'SKU-' || (n %% 500), 'completed',
                       %s + n * interval '1 second', now(), now() - interval '1 minute', '', ''
                FROM generate_series(0, 199999) AS n""",
            [retailer.pk, store.pk, T0],
        )
    key = token_client(retailer).key
    url = f"{live_server.url}/api/v1/transactions/export/"
    with requests.get(url, headers={"Authorization": f"Token {key}"}, stream=True, timeout=30) as answer:
        assert answer.status_code == 200
        first = next(answer.iter_content(64 * 1024))
        assert first.startswith(b'{"id":')
        assert running_exports() == 1, "the export is still being read from the database"
    # The client is gone; the server notices at its next write and closes the response.
    for _ in range(300):
        if running_exports() == 0:
            break
        time.sleep(0.05)
    assert running_exports() == 0
    again = requests.get(url, headers={"Authorization": f"Token {key}"}, params={"sku": "SKU-1"}, timeout=30)
    assert again.status_code == 200, "the slot was given back"
    assert again.content.count(b"\n") == 400 + 1
