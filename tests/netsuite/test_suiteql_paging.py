"""SuiteQL paging through the real resilient client, with NetSuite answered at the HTTP boundary (``responses``):
offset pages over a stable key order, key windows before the row cap, resume after a key."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from integrations.http import client_for
from integrations.providers.netsuite import queries, suiteql

pytestmark = pytest.mark.django_db


class FakeItemTable:
    """NetSuite's side of ``SELECT ... FROM item i WHERE ... [AND i.id > N] ORDER BY i.id``: offset paging and a
    hard row cap past which it answers an error, as NetSuite does."""

    def __init__(self, ids, cap):
        self.ids, self.cap = sorted(ids), cap
        self.requests: list[tuple[str, int, int]] = []

    def __call__(self, request):
        query = parse_qs(urlsplit(request.url).query)
        limit, offset = int(query["limit"][0]), int(query["offset"][0])
        sql = json.loads(request.body)["q"]
        assert request.headers["Prefer"] == "transient"
        assert sql.endswith("ORDER BY i.id")
        self.requests.append((sql, offset, limit))
        if offset >= self.cap:
            return 400, {}, json.dumps({"status": 400, "o:errorDetails": [{
                "o:errorCode": "INVALID_PARAMETER", "detail": f"Query results exceed {self.cap} rows."}]})
        after = re.search(r"i\.id > (\d+)", sql)
        rows = [i for i in self.ids if not after or i > int(after.group(1))]
        page = rows[offset:offset + limit]
        body = {"links": [], "count": len(page), "hasMore": offset + len(page) < len(rows), "offset": offset,
                "totalResults": len(rows), "items": [{"links": [], "id": str(i), "itemid": f"SKU-{i}"} for i in page]}
        return 200, {}, json.dumps(body)


def serve(connection, table):
    base = client_for(connection).base_url
    responses.add_callback(responses.POST, re.compile(re.escape(base + suiteql.SUITEQL_PATH) + r".*"),
                           callback=table)


@responses.activate
def test_a_query_larger_than_the_cap_is_read_in_key_windows_without_crossing_it(netsuite_connection):
    conn = netsuite_connection()
    table = FakeItemTable(ids=range(1, 24, 1), cap=8)  # 23 rows, 8 per query at most, pages of 2
    serve(conn, table)
    query = queries.items(["InvtPart"], None)
    rows = [row for batch in suiteql.read(client_for(conn), query, limit=2, cap=8) for row in batch.rows]
    assert [int(r["id"]) for r in rows] == list(range(1, 24))
    assert all(offset + limit <= 8 for _, offset, limit in table.requests)
    windows = [sql for sql, offset, _ in table.requests if offset == 0]
    assert len(windows) == 3  # 8 + 8 + 7 rows
    assert "i.id > 8" in windows[1] and "i.id > 16" in windows[2]


@responses.activate
def test_reading_resumes_after_a_key(netsuite_connection):
    conn = netsuite_connection()
    table = FakeItemTable(ids=[3, 10, 11, 40], cap=100)
    serve(conn, table)
    batches = list(suiteql.read(client_for(conn), queries.items(["InvtPart"], None), after=[10], limit=1000))
    assert [r["id"] for b in batches for r in b.rows] == ["11", "40"]
    assert batches[-1].last_key == [40] and not batches[-1].more


def test_composite_keys_are_compared_as_row_values():
    query = queries.stock(["InvtPart"])
    assert query.after_condition([5, 2]) == "((iil.item > 5) OR (iil.item = 5 AND iil.location > 2))"
    with pytest.raises(ValueError):
        query.after_condition(["5 OR 1=1", 2])  # keys are integers, never SQL text


def test_text_values_are_quoted():
    assert queries.items(["Inv't"], None).sql().count("'Inv''t'") == 1
