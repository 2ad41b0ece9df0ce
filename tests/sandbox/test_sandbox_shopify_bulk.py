"""The Shopify stand-in's bulk operations (provider-facts 2.4): run, poll, JSONL at a signed URL, limits, webhook."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from integrations.providers.shopify import queries
from tests.processes import wait_until

SHOP = "demo-shop.myshopify.com"
RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status } userErrors { field message code } } }"""
STATUS = """query($id: ID!) { node(id: $id) { ... on BulkOperation {
  id status errorCode objectCount rootObjectCount createdAt completedAt url partialDataUrl fileSize } } }"""
CURRENT = "{ currentBulkOperation { id status url } }"


@pytest.fixture
def shop(sandbox_server):
    token = sandbox_server.state.issue_token("shopify", SHOP, sandbox_server.config.shopify_client_id, "access",
                                             None, scopes=["read_products", "read_orders"])

    def gql(query, variables=None, version="2026-07"):
        answer = requests.post(f"{sandbox_server.url}/shopify/{SHOP}/admin/api/{version}/graphql.json",
                               json={"query": query, "variables": variables or {}},
                               headers={"X-Shopify-Access-Token": token}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    return gql


def start(gql, query, version="2026-07") -> dict:
    return gql(RUN, {"q": query}, version)["bulkOperationRunQuery"]


def finished(gql, op_id) -> dict:
    def done():
        status = gql(STATUS, {"id": op_id})["node"]
        return status if status["status"] not in ("CREATED", "RUNNING", "CANCELING") else None

    return wait_until(done, timeout=30, interval=0.05, what="bulk operation to finish")


def jsonl(url) -> list[dict]:
    answer = requests.get(url, timeout=30)  # no access token: the URL's signature is the credential
    assert answer.status_code == 200, answer.text
    return [json.loads(line) for line in answer.iter_lines() if line]


def test_orders_with_nested_line_items_as_separate_lines_with_parent_id(sandbox_server, shop):
    m = sandbox_server.merchant("shopify")
    started = start(shop, queries.BULK_ORDERS)
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    status = finished(shop, started["bulkOperation"]["id"])
    assert status["status"] == "COMPLETED" and status["errorCode"] is None and status["completedAt"]
    rows = jsonl(status["url"])
    orders = [r for r in rows if "__parentId" not in r]
    lines = [r for r in rows if "__parentId" in r]
    assert len(orders) == m.order_count and len(lines) == m.count_order_lines()
    assert status["objectCount"] == str(len(rows)) and status["rootObjectCount"] == str(len(orders))
    assert int(status["fileSize"]) > 0
    # Children follow their parent; their __parentId is the parent's id; wrappers (edges/node) are gone.
    parent = None
    for row in rows:
        if "__parentId" in row:
            assert row["__parentId"] == parent["id"]
            assert set(row) >= {"id", "sku", "quantity", "variant", "originalUnitPriceSet"}
        else:
            parent = row
            assert "lineItems" not in row and "edges" not in row
            assert row["id"].startswith("gid://shopify/Order/") and row["retailLocation"]["id"]
    first = m.order(0)
    assert orders[0]["createdAt"].startswith(first.created_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_variants_current_operation_and_download_needs_no_token(sandbox_server, shop):
    op = start(shop, queries.BULK_VARIANTS)["bulkOperation"]
    status = finished(shop, op["id"])
    assert shop(CURRENT)["currentBulkOperation"] == {"id": op["id"], "status": "COMPLETED", "url": status["url"]}
    assert shop("query($id: ID!) { bulkOperation(id: $id) { id status } }", {"id": op["id"]})["bulkOperation"][
        "status"] == "COMPLETED"
    rows = jsonl(status["url"])
    assert len(rows) == sandbox_server.merchant("shopify").sizes.variants
    assert rows[0]["sku"] == "SKU-000001" and rows[0]["inventoryItem"]["id"].startswith("gid://shopify/Inventory")
    assert urlsplit(status["url"]).path.startswith("/storage/")


@pytest.mark.parametrize("query, message", [
    ("{ productVariants { edges { node { id nope } } } }", "Cannot query field 'nope'"),
    ("{ shop { name } }", "at least one connection"),
    ("mutation { webhookSubscriptionDelete(id: \"x\") { userErrors { message } } }", "no mutations"),
    ("{ orders { edges { node { createdAt lineItems { edges { node { id } } } } } } }", "must select the 'id'"),
    ("{ locations { edges { node { id inventoryLevels { edges { node { id item { id inventoryLevels { edges "
     "{ node { id } } } } } } } } } } }", "nesting depth greater than 2"),
    ("{ a: locations { nodes { id } } b: locations { nodes { id } } c: locations { nodes { id } } "
     "d: locations { nodes { id } } e: locations { nodes { id } } f: locations { nodes { id } } }",
     "more than 5 connections"),
    ("{ productVariants { edges { node { id ", "Syntax Error"),
])
def test_invalid_bulk_queries_are_user_errors(shop, query, message):
    answer = start(shop, query)
    assert answer["bulkOperation"] is None
    assert message in answer["userErrors"][0]["message"] and answer["userErrors"][0]["field"] == ["query"]


@pytest.mark.parametrize("version, limit", [("2025-10", 1), ("2026-07", 5)])
def test_concurrent_operations_per_shop_by_api_version(sandbox_server, shop, version, limit):
    sandbox_server.freeze_clock()
    sandbox_server.set_faults("shopify", bulk_seconds=600)
    ids = [start(shop, queries.BULK_VARIANTS, version)["bulkOperation"]["id"] for _ in range(limit)]
    refused = start(shop, queries.BULK_VARIANTS, version)
    assert refused["bulkOperation"] is None and refused["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    assert "already in progress" in refused["userErrors"][0]["message"]
    assert wait_until(lambda: shop(STATUS, {"id": ids[0]})["node"]["status"] == "RUNNING", timeout=10)
    assert shop(STATUS, {"id": ids[0]})["node"]["url"] is None
    sandbox_server.advance_clock(601)
    for op_id in ids:
        assert finished(shop, op_id)["status"] == "COMPLETED"
    assert start(shop, queries.BULK_VARIANTS, version)["userErrors"] == []


def test_signed_url_rejects_tampering_and_expires_after_seven_days(sandbox_server, shop):
    sandbox_server.freeze_clock()
    status = finished(shop, start(shop, queries.BULK_VARIANTS)["bulkOperation"]["id"])
    parts = urlsplit(status["url"])
    params = dict(parse_qsl(parts.query))
    assert {"X-Goog-Signature", "X-Goog-Expires", "X-Goog-Date"} <= set(params)
    for key, value in (("X-Goog-Signature", "0" * 64), ("X-Goog-Expires", "999999999")):
        forged = urlunsplit(parts._replace(query=urlencode({**params, key: value})))
        answer = requests.get(forged, timeout=5)
        assert answer.status_code == 403 and "SignatureDoesNotMatch" in answer.text
    assert requests.get(urlunsplit(parts._replace(query="")), timeout=5).status_code == 403
    sandbox_server.advance_clock(7 * 86400 + 1)
    expired = requests.get(status["url"], timeout=5)
    assert expired.status_code == 400 and "ExpiredToken" in expired.text
    later = shop(STATUS, {"id": status["id"]})["node"]
    assert later["status"] == "EXPIRED" and later["url"] is None


def test_failed_operation_has_error_code_and_partial_data(sandbox_server, shop):
    sandbox_server.set_faults("shopify", bulk_error_code="INTERNAL_SERVER_ERROR")
    status = finished(shop, start(shop, queries.BULK_ORDERS)["bulkOperation"]["id"])
    assert status["status"] == "FAILED" and status["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert status["url"] is None and status["partialDataUrl"]
    roots = [r for r in jsonl(status["partialDataUrl"]) if "__parentId" not in r]
    assert len(roots) == int(status["rootObjectCount"]) // 2


def test_cancel_a_running_operation(sandbox_server, shop):
    sandbox_server.freeze_clock()
    sandbox_server.set_faults("shopify", bulk_seconds=600)
    op_id = start(shop, queries.BULK_VARIANTS)["bulkOperation"]["id"]
    cancel = "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }"
    assert shop(cancel, {"id": op_id})["bulkOperationCancel"]["bulkOperation"]["status"] == "CANCELING"
    assert finished(shop, op_id)["status"] == "CANCELED"
    again = shop(cancel, {"id": op_id})["bulkOperationCancel"]
    assert "cannot be canceled" in again["userErrors"][0]["message"]


def test_finish_webhook_only_when_subscribed(sandbox_server, shop, receiver):
    finished(shop, start(shop, queries.BULK_VARIANTS)["bulkOperation"]["id"])
    create = """mutation($sub: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH,
      webhookSubscription: $sub) { userErrors { message } } }"""
    assert shop(create, {"sub": {"uri": f"{receiver.url}/hooks/bulk"}})["webhookSubscriptionCreate"][
        "userErrors"] == []
    op_id = start(shop, queries.BULK_ORDERS)["bulkOperation"]["id"]
    finished(shop, op_id)
    wait_until(lambda: receiver.requests, timeout=10, what="bulk_operations/finish")
    assert len(receiver.requests) == 1  # the first operation finished before the subscription: no delivery
    hook = receiver.requests[0]
    assert hook["path"] == "/hooks/bulk" and hook["headers"]["X-Shopify-Topic"] == "bulk_operations/finish"
    body = json.loads(hook["body"])
    assert body["admin_graphql_api_id"] == op_id and body["status"] == "completed" and body["type"] == "query"


# --- order cancellation, retailLocation, inventory level filters (the portal's other Shopify queries) ------------
ORDERS_SINCE = """query($q: String, $after: String) {
  orders(first: 50, after: $after, sortKey: UPDATED_AT, query: $q) {
    nodes { id updatedAt cancelledAt retailLocation { id } physicalLocation { id } }
    pageInfo { hasNextPage endCursor } } }"""


def all_orders(gql, query):
    out, after = [], None
    while True:
        page = gql(ORDERS_SINCE, {"q": query, "after": after})["orders"]
        out += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def test_cancel_order_moves_it_to_the_end_of_updated_at_order_and_sends_webhooks(sandbox_server, shop, receiver):
    before = all_orders(shop, None)
    target = next(o for o in before[5:] if o["cancelledAt"] is None)
    assert target["cancelledAt"] is None and target["retailLocation"] == target["physicalLocation"]
    answer = requests.post(f"{sandbox_server.url}/_sandbox/shopify/default/cancellations",
                           json={"order": target["id"]}, timeout=5)
    assert answer.status_code == 201, answer.text
    after = all_orders(shop, None)
    assert [o["id"] for o in after] == [o["id"] for o in before if o["id"] != target["id"]] + [target["id"]]
    assert after[-1]["cancelledAt"] == after[-1]["updatedAt"] == answer.json()["cancelled_at"]
    newest = all_orders(shop, f"updated_at:>'{before[-1]['updatedAt']}'")
    assert [o["id"] for o in newest] == [target["id"]]
    wait_until(lambda: len(receiver.requests) >= 2, timeout=10, what="cancel webhooks")
    topics = sorted(r["headers"]["X-Shopify-Topic"] for r in receiver.requests)
    assert topics == ["orders/cancelled", "orders/updated"]
    assert json.loads(receiver.requests[0]["body"])["cancelled_at"] == answer.json()["cancelled_at"]
    again = requests.post(f"{sandbox_server.url}/_sandbox/shopify/default/cancellations",
                          json={"order": target["id"]}, timeout=5)
    assert again.status_code == 400 and "already cancelled" in again.json()["error"]
    assert requests.post(f"{sandbox_server.url}/_sandbox/shopify/default/cancellations", json={"order": "x"},
                         timeout=5).status_code == 400


def test_location_inventory_levels_honour_the_updated_at_query(sandbox_server, shop):
    levels = """query($loc: ID!, $q: String) { location(id: $loc) { inventoryLevels(first: 250, query: $q) {
      nodes { updatedAt item { id } } } } }"""
    loc = shop("{ locations(first: 1) { nodes { id } } }")["locations"]["nodes"][0]["id"]
    everything = shop(levels, {"loc": loc})["location"]["inventoryLevels"]["nodes"]
    cut = sorted(n["updatedAt"] for n in everything)[len(everything) // 2]
    newer = shop(levels, {"loc": loc, "q": f"updated_at:>'{cut}'"})["location"]["inventoryLevels"]["nodes"]
    assert newer and all(n["updatedAt"] > cut for n in newer)
    assert newer[0] == next(n for n in everything if n["updatedAt"] > cut)
    sandbox_server.change_stock("shopify", item=0, location=0, on_hand=7)
    anchor = sandbox_server.config.anchor.strftime("%Y-%m-%dT%H:%M:%SZ")  # every generated count is older
    changed = shop(levels, {"loc": loc, "q": f"updated_at:>'{anchor}'"})
    assert [n["item"]["id"] for n in changed["location"]["inventoryLevels"]["nodes"]] == [
        everything[0]["item"]["id"]]
