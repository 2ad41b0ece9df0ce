"""Shopify GraphQL streams through the real engine, client and ingest; Shopify's answers come from ``responses``.
Covers Relay paging with the updated_at search filter, the bulk-operation initial load with streamed JSONL,
per-location inventory levels with quantities(names:), orders with more lines than one page."""

import json
from decimal import Decimal

import pytest
import responses

from integrations.models import SyncCursor
from integrations.providers.shopify import queries
from integrations.sync import engine, services
from inventory.models import InventoryLevel, ProductMapping, Transaction

from .conftest import make_connection

SHOP = "demo-shop.myshopify.com"
GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
JSONL_URL = "https://storage.example.test/bulk/result.jsonl?signature=abc"
COST = {"cost": {"requestedQueryCost": 10, "actualQueryCost": 5,
                 "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 1990, "restoreRate": 100}}}


@pytest.fixture(autouse=True)
def shopify_at_test_host(settings):
    settings.SHOPIFY_BASE_URL_TEMPLATE = "https://{shop}"
    settings.SHOPIFY_API_VERSION = "2026-10"
    settings.SHOPIFY_BULK_POLL_SECONDS = 0
    settings.SHOPIFY_BULK_STREAMS = ["variants", "orders"]  # as against the real API
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0


@pytest.fixture
def shop(retailer):
    return make_connection(retailer, provider="shopify", account=SHOP)


class FakeAdminApi:
    """Answers GraphQL documents by operation name, recording (operation, variables) of every call."""

    def __init__(self, rsps, handlers):
        self.calls = []
        self.handlers = handlers
        rsps.add_callback(responses.POST, GRAPHQL, callback=self)

    def __call__(self, request):
        body = json.loads(request.body)
        words = body["query"].split()
        operation = words[1].split("(")[0] if words[0] in ("query", "mutation") else "anonymous"
        self.calls.append((operation, body.get("variables") or {}))
        data = self.handlers[operation](body.get("variables") or {})
        return 200, {"Content-Type": "application/json"}, json.dumps({"data": data, "extensions": COST})

    def ops(self):
        return [op for op, _ in self.calls]


def run(connection, stream, *, full=False):
    return engine.execute(services.create_run(connection, stream, full=full, trigger="command").pk)


def variant(n, updated):
    return {"id": f"gid://shopify/ProductVariant/{n}", "sku": f"SKU-{n}", "barcode": "", "title": "Default Title",
            "updatedAt": updated, "product": {"title": f"Product {n}"},
            "inventoryItem": {"id": f"gid://shopify/InventoryItem/{n + 1000}"}}


def test_initial_variants_load_uses_a_bulk_operation_and_streams_its_jsonl(shop):
    status = iter(["RUNNING", "COMPLETED"])
    with responses.RequestsMock() as rsps:
        api = FakeAdminApi(rsps, {
            "BulkRun": lambda v: {"bulkOperationRunQuery": {
                "bulkOperation": {"id": "gid://shopify/BulkOperation/1", "status": "CREATED",
                                  "createdAt": "2026-10-10T00:00:00Z"}, "userErrors": []}},
            "BulkStatus": lambda v: {"bulkOperation": {
                "id": v["id"], "status": next(status), "createdAt": "2026-10-10T00:00:00Z", "errorCode": None,
                "objectCount": "3", "url": JSONL_URL, "partialDataUrl": None}},
        })
        jsonl = "\n".join(json.dumps(variant(n, f"2026-10-0{n}T00:00:00Z")) for n in (1, 2, 3)) + "\n"
        rsps.get(JSONL_URL, body=jsonl)
        result = run(shop, "variants")
        jsonl_request = next(c.request for c in rsps.calls if c.request.url.startswith("https://storage"))
    assert result.status == "succeeded", result.error
    assert api.ops() == ["BulkRun", "BulkStatus", "BulkStatus"]
    assert "productVariants" in api.calls[0][1]["query"]
    # The pre-signed result URL never receives the shop's access token.
    assert "X-Shopify-Access-Token" not in jsonl_request.headers
    assert result.records_created == 3
    mapping = ProductMapping.objects.get(external_id="2")
    assert (mapping.sku, mapping.secondary_id) == ("SKU-2", "1002")
    cursor = SyncCursor.objects.get(connection=shop, stream="variants").value
    assert cursor["updated_at"] == "2026-10-02T23:55:00.000Z" and cursor["page"] is None


class FailingAdminApi(FakeAdminApi):
    """Answers a top-level GraphQL error (a non-retried ProviderError) for the calls numbered in ``fail``."""

    def __init__(self, rsps, handlers, fail):
        super().__init__(rsps, handlers)
        self.fail = fail

    def __call__(self, request):
        status, headers, body = super().__call__(request)
        if len(self.calls) in self.fail:
            body = json.dumps({"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL"}}]})
        return status, headers, body


def test_variant_deltas_page_in_id_order_and_move_the_bound_only_at_the_end(shop):
    SyncCursor.objects.create(connection=shop, stream="variants", value={"updated_at": "2026-10-01T00:00:00.000Z"})
    # ID order: the second page's variant was updated before the first page's.
    first = {"nodes": [variant(1, "2026-10-03T00:00:00Z")], "pageInfo": {"hasNextPage": True, "endCursor": "e1"}}
    second = {"nodes": [variant(2, "2026-10-02T00:00:00Z")], "pageInfo": {"hasNextPage": False, "endCursor": "e2"}}
    with responses.RequestsMock() as rsps:
        api = FailingAdminApi(rsps, {"Variants": lambda v: {"productVariants": second if v["after"] else first}},
                              fail={2})
        broken = run(shop, "variants")
        # Interrupted after page one: the bound stayed put and the page token was saved, because an unsorted
        # stream must not move its bound past records it has not read yet.
        saved = SyncCursor.objects.get(connection=shop, stream="variants").value
        result = run(shop, "variants")
    assert broken.status == "failed"
    assert saved["updated_at"] == "2026-10-01T00:00:00.000Z" and saved["page"]["after"] == "e1"
    assert result.status == "succeeded", result.error
    assert "sortKey: ID" in queries.VARIANTS and "UPDATED_AT" not in queries.VARIANTS
    bound = "updated_at:>'2026-10-01T00:00:00.000Z'"
    assert [v for _, v in api.calls] == [{"query": bound, "after": None}, {"query": bound, "after": "e1"},
                                         {"query": bound, "after": "e1"}]
    assert set(ProductMapping.objects.values_list("external_id", flat=True)) >= {"1", "2"}
    # At the end the bound moved to the newest updated_at seen in the run minus the overlap.
    assert result.cursor_after["updated_at"] == "2026-10-02T23:55:00.000Z" and result.cursor_after["page"] is None


def test_an_interrupted_variants_delta_resumes_at_its_page_with_the_same_bound(shop):
    SyncCursor.objects.create(connection=shop, stream="variants", value={
        "updated_at": "2026-10-01T00:00:00.000Z", "high_water": "2026-10-04T00:00:00.000Z",
        "page": {"after": "e7", "started": "2026-10-05T00:00:00.000Z"}})
    with responses.RequestsMock() as rsps:
        api = FakeAdminApi(rsps, {"Variants": lambda v: {"productVariants": {
            "nodes": [variant(8, "2026-10-06T00:00:00Z")], "pageInfo": {"hasNextPage": False, "endCursor": "e8"}}}})
        result = run(shop, "variants")
    assert result.status == "succeeded", result.error
    assert [v for _, v in api.calls] == [{"query": "updated_at:>'2026-10-01T00:00:00.000Z'", "after": "e7"}]
    # The variant updated after the interrupted run started may have been missed behind the ID position: the
    # bound goes no later than that start (minus the overlap), so the next run reads everything changed since.
    assert result.cursor_after["updated_at"] == "2026-10-04T23:55:00.000Z"


def line(n, qty=1, price="2.50"):
    return {"id": f"gid://shopify/LineItem/{n}", "sku": f"SKU-{n}", "quantity": qty, "currentQuantity": qty,
            "variant": {"id": f"gid://shopify/ProductVariant/{n}"},
            "originalUnitPriceSet": {"shopMoney": {"amount": price, "currencyCode": "USD"}}}


def test_order_deltas_fetch_remaining_line_pages_and_store_every_line(shop):
    SyncCursor.objects.create(connection=shop, stream="orders", value={"updated_at": "2026-10-01T00:00:00.000Z"})
    order = {"id": "gid://shopify/Order/77", "createdAt": "2026-10-05T00:00:00Z", "updatedAt": "2026-10-05T01:00:00Z",
             "cancelledAt": None, "displayFinancialStatus": "PAID", "currencyCode": "USD",
             "retailLocation": {"id": "gid://shopify/Location/5"},
             "lineItems": {"nodes": [line(1, 2, "1.5")], "pageInfo": {"hasNextPage": True, "endCursor": "l1"}}}
    with responses.RequestsMock() as rsps:
        api = FakeAdminApi(rsps, {
            "Orders": lambda v: {"orders": {"nodes": [order], "pageInfo": {"hasNextPage": False, "endCursor": "x"}}},
            "OrderLines": lambda v: {"order": {"lineItems": {"nodes": [line(2), line(3)],
                                                             "pageInfo": {"hasNextPage": False, "endCursor": None}}}},
        })
        result = run(shop, "orders")
    assert result.status == "succeeded", result.error
    assert api.calls[1] == ("OrderLines", {"id": "gid://shopify/Order/77", "after": "l1"})
    assert sorted(Transaction.objects.values_list("external_line_id", flat=True)) == ["1", "2", "3"]
    first = Transaction.objects.get(external_line_id="1")
    assert first.quantity == Decimal(2) and first.unit_price == Decimal("1.5") and first.external_order_id == "77"


def test_inventory_levels_per_location_with_quantities_by_name(shop):
    levels = {"gid://shopify/Location/1": [("1001", 5)], "gid://shopify/Location/2": [("1001", 7), ("1002", 0)]}

    def level_page(v):
        nodes = [{"updatedAt": "2026-10-08T00:00:00Z", "item": {"id": f"gid://shopify/InventoryItem/{item}"},
                  "quantities": [{"name": "available", "quantity": qty}, {"name": "on_hand", "quantity": qty + 1},
                                 {"name": "committed", "quantity": 1}, {"name": "incoming", "quantity": 0}]}
                 for item, qty in levels[v["location"]]]
        return {"location": {"inventoryLevels": {"nodes": nodes, "pageInfo": {"hasNextPage": False}}}}

    with responses.RequestsMock() as rsps:
        api = FakeAdminApi(rsps, {
            "LocationIds": lambda v: {"locations": {"nodes": [{"id": loc} for loc in levels],
                                                    "pageInfo": {"hasNextPage": False}}},
            "Levels": level_page,
        })
        result = run(shop, "inventory")
    assert result.status == "succeeded", result.error
    assert api.ops() == ["LocationIds", "Levels", "Levels"]
    assert result.records_seen == 3
    assert InventoryLevel.objects.count() == 3
    level = InventoryLevel.objects.get(store_mapping__external_id="2", product_mapping__secondary_id="1001")
    assert (level.available, level.on_hand, level.committed) == (Decimal(7), Decimal(8), Decimal(1))


def test_order_deltas_read_refunds_only_for_orders_that_have_them_and_store_each_once(shop):
    SyncCursor.objects.create(connection=shop, stream="orders", value={"updated_at": "2026-10-01T00:00:00.000Z"})
    base = {"createdAt": "2026-10-05T00:00:00Z", "updatedAt": "2026-10-06T01:00:00Z", "cancelledAt": None,
            "displayFinancialStatus": "PARTIALLY_REFUNDED", "currencyCode": "USD",
            "retailLocation": {"id": "gid://shopify/Location/5"}}
    refunded = {**base, "id": "gid://shopify/Order/77", "refunds": [{"id": "gid://shopify/Refund/9"}],
                "lineItems": {"nodes": [{**line(1, 3), "currentQuantity": 1}, line(2)]}}
    plain = {**base, "id": "gid://shopify/Order/78", "refunds": [], "lineItems": {"nodes": [line(3)]}}
    refund_lines = [{"id": f"gid://shopify/RefundLineItem/{n}", "quantity": 1, "restockType": "RETURN",
                     "lineItem": {"id": "gid://shopify/LineItem/1"},
                     "priceSet": {"shopMoney": {"amount": "2.50", "currencyCode": "USD"}}} for n in (91, 92)]
    for _ in range(2):  # the second run reads the same orders again (overlap): nothing doubles
        with responses.RequestsMock() as rsps:
            api = FakeAdminApi(rsps, {
                "Orders": lambda v: {"orders": {"nodes": [refunded, plain],
                                                "pageInfo": {"hasNextPage": False, "endCursor": "x"}}},
                "OrderRefunds": lambda v: {"order": {"refunds": [{
                    "id": "gid://shopify/Refund/9", "createdAt": "2026-10-06T01:00:00Z",
                    "updatedAt": "2026-10-06T01:00:00Z", "return": {"id": "gid://shopify/Return/3"},
                    "refundLineItems": {"nodes": refund_lines[:1],
                                        "pageInfo": {"hasNextPage": True, "endCursor": "r1"}}}]}},
                "RefundLines": lambda v: {"refund": {"refundLineItems": {
                    "nodes": refund_lines[1:], "pageInfo": {"hasNextPage": False, "endCursor": None}}}},
            })
            result = run(shop, "orders")
        assert result.status == "succeeded", result.error
        # One refunds read, for the order that has refunds; its second page of refund lines by refund id.
        assert api.ops() == ["Orders", "OrderRefunds", "RefundLines"]
        assert api.calls[1][1]["id"] == "gid://shopify/Order/77"
        assert api.calls[2][1] == {"id": "gid://shopify/Refund/9", "after": "r1"}
    rows = {(t.external_order_id, t.external_line_id): (t.quantity, t.state, t.refund_of_order_id,
                                                         t.refund_of_line_id) for t in Transaction.objects.all()}
    assert rows == {
        ("77", "1"): (Decimal(3), "completed", "", ""), ("77", "2"): (Decimal(1), "completed", "", ""),
        ("78", "3"): (Decimal(1), "completed", "", ""),
        ("9", "91"): (Decimal(-1), "refunded", "77", "1"), ("9", "92"): (Decimal(-1), "refunded", "77", "1"),
    }
