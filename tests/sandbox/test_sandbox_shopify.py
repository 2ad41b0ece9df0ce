"""The Shopify stand-in, checked against the facts sheet and the official ShopifyAPI library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import shopify

from tests.processes import wait_until

SHOP = "demo-shop.myshopify.com"
REDIRECT = "http://127.0.0.1:8000/integrations/shopify/callback/"
VERSION = "2026-07"


def authorize(sb, decision="allow", shop=SHOP) -> dict:
    params = {"client_id": sb.config.shopify_client_id, "scope": "read_products,read_inventory",
              "redirect_uri": REDIRECT, "state": "nonce-1"}
    base = f"{sb.url}/shopify/{shop}/admin/oauth/authorize"
    page = requests.get(base, params=params, timeout=5)
    assert page.status_code == 200 and 'id="allow"' in page.text
    answer = requests.post(base, data={**params, "decision": decision}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


def exchange(sb, shop=SHOP, **body):
    payload = {"client_id": sb.config.shopify_client_id, "client_secret": sb.config.shopify_client_secret, **body}
    return requests.post(f"{sb.url}/shopify/{shop}/admin/oauth/access_token", json=payload, timeout=5)


def connect(sb, expiring=True) -> dict:
    code = authorize(sb)["code"]
    answer = exchange(sb, code=code, **({"expiring": 1} if expiring else {}))
    assert answer.status_code == 200, answer.text
    return answer.json()


def gql(sb, access_token, query, variables=None, shop=SHOP):
    answer = requests.post(f"{sb.url}/shopify/{shop}/admin/api/{VERSION}/graphql.json",
                           json={"query": query, "variables": variables or {}},
                           headers={"X-Shopify-Access-Token": access_token}, timeout=10)
    return answer


def test_callback_parameters_pass_shopifyapi_validate_hmac(sandbox_server):
    params = authorize(sandbox_server)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == SHOP and params["state"] == "nonce-1"
    assert base64.b64decode(params["host"] + "==").decode() == "admin.shopify.com/store/demo-shop"
    shopify.Session.setup(api_key=sandbox_server.config.shopify_client_id,
                          secret=sandbox_server.config.shopify_client_secret)
    assert shopify.Session.validate_hmac(params)
    assert shopify.Session.validate_params(params)  # also checks the timestamp is recent
    tampered = dict(params, shop="evil-shop.myshopify.com")
    assert not shopify.Session.validate_hmac(tampered)


def test_denied_install_redirects_with_access_denied(sandbox_server):
    params = authorize(sandbox_server, decision="deny")
    assert params["error"] == "access_denied" and params["state"] == "nonce-1" and "code" not in params


def test_non_myshopify_domain_has_no_authorize_page(sandbox_server):
    answer = requests.get(f"{sandbox_server.url}/shopify/evil.example.com/admin/oauth/authorize",
                          params={"client_id": sandbox_server.config.shopify_client_id}, timeout=5)
    assert answer.status_code == 404


def test_code_errors_wrong_secret_and_reuse(sandbox_server):
    code = authorize(sandbox_server)["code"]
    wrong = requests.post(f"{sandbox_server.url}/shopify/{SHOP}/admin/oauth/access_token",
                          json={"client_id": sandbox_server.config.shopify_client_id, "client_secret": "nope",
                                "code": code}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert exchange(sandbox_server, code=code).status_code == 200
    reused = exchange(sandbox_server, code=code)
    assert reused.status_code == 400 and "already used" in reused.json()["error_description"]


def test_offline_token_without_expiry_and_expiring_token_with_rotating_refresh(sandbox_server):
    plain = connect(sandbox_server, expiring=False)
    assert set(plain) == {"access_token", "scope"}
    tokens = connect(sandbox_server)
    assert tokens["expires_in"] == 3600 and tokens["refresh_token_expires_in"] == 90 * 86400
    # One expiring token per app + shop: the earlier one stops working.
    assert gql(sandbox_server, plain["access_token"], "{ shop { name } }").status_code == 401
    first = exchange(sandbox_server, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert first["refresh_token"] != tokens["refresh_token"]
    assert gql(sandbox_server, tokens["access_token"], "{ shop { name } }").status_code == 401
    # The previous refresh token still works until its replacement is used (lost-response recovery) ...
    again = exchange(sandbox_server, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert again.status_code == 200
    second = exchange(sandbox_server, grant_type="refresh_token", refresh_token=again.json()["refresh_token"])
    assert second.status_code == 200
    # ... and not after.
    assert exchange(sandbox_server, grant_type="refresh_token",
                    refresh_token=tokens["refresh_token"]).json()["error"] == "invalid_grant"
    sandbox_server.advance_clock(3601)
    expired = gql(sandbox_server, second.json()["access_token"], "{ shop { name } }")
    assert expired.status_code == 401 and "Invalid API key or access token" in expired.json()["errors"]


VARIANTS = """query($after: String, $q: String) { productVariants(first: 100, after: $after, query: $q) {
  nodes { id sku barcode updatedAt inventoryItem { id tracked } product { id title } }
  pageInfo { hasNextPage endCursor } } }"""


def test_product_variants_relay_paging_updated_at_filter_and_cost(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    seen, after = [], None
    while True:
        body = gql(sandbox_server, token, VARIANTS, {"after": after}).json()
        page = body["data"]["productVariants"]
        seen += page["nodes"]
        cost = body["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 2 + 100 * 3  # variant + inventoryItem + product per node
        assert cost["actualQueryCost"] <= cost["requestedQueryCost"]
        assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 400 and len({v["id"] for v in seen}) == 400
    stamp = sandbox_server.state.now_dt().isoformat().replace("+00:00", "Z")
    sandbox_server.edit_product("shopify", SHOP, item="SKU-000007", barcode="000000000007")
    changed = gql(sandbox_server, token, VARIANTS, {"q": f"updated_at:>'{stamp}'"}).json()
    assert [v["sku"] for v in changed["data"]["productVariants"]["nodes"]] == ["SKU-000007"]


def test_inventory_levels_with_quantities_and_removed_available_field(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    item = gql(sandbox_server, token, "{ productVariants(first: 1) { nodes { inventoryItem { id } } } }").json()
    item_id = item["data"]["productVariants"]["nodes"][0]["inventoryItem"]["id"]
    query = """query($id: ID!) { inventoryItem(id: $id) { inventoryLevels(first: 10) { nodes { location { id }
      quantities(names: ["available", "on_hand", "committed"]) { name quantity } } } } }"""
    levels = gql(sandbox_server, token, query, {"id": item_id}).json()["data"]["inventoryItem"]["inventoryLevels"]
    assert len(levels["nodes"]) == 3
    q = {x["name"]: x["quantity"] for x in levels["nodes"][0]["quantities"]}
    assert q["available"] == q["on_hand"] - q["committed"]
    removed = gql(sandbox_server, token, """query($id: ID!) { inventoryItem(id: $id) {
      inventoryLevels(first: 1) { nodes { available } } } }""", {"id": item_id}).json()
    assert "available" in removed["errors"][0]["message"] and "data" not in removed


def test_orders_with_line_items_and_updated_at_query(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    query = """query($q: String) { orders(first: 20, sortKey: UPDATED_AT, query: $q) { nodes { id updatedAt
      lineItems(first: 5) { nodes { sku quantity variant { id } originalUnitPriceSet { shopMoney { amount } } } } }
      pageInfo { hasNextPage } } }"""
    body = gql(sandbox_server, token, query, {"q": "updated_at:>'2026-10-15T00:00:00Z'"}).json()
    orders = body["data"]["orders"]["nodes"]
    assert orders and all(o["updatedAt"] > "2026-10-15" for o in orders)
    assert all(line["quantity"] >= 1 for o in orders for line in o["lineItems"]["nodes"])
    # order 1 + lineItems connection 2 + 5 x (line 1 + variant 1 + price set 1 + shopMoney 1)
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 20 * (1 + 2 + 5 * (1 + 1 + 1 + 1))


def test_throttled_when_the_plan_bucket_runs_dry_and_max_cost_exceeded(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    sandbox_server.freeze_clock()  # no restore between calls: the bucket arithmetic is exact
    sandbox_server.set_faults("shopify", plan="standard")
    heavy = """{ a: productVariants(first: 250) { nodes { id inventoryItem { id } product { id } } }
                 b: productVariants(first: 80) { nodes { id inventoryItem { id } product { id } } } }"""
    statuses = []
    for _ in range(4):
        body = gql(sandbox_server, token, heavy).json()
        statuses.append(body.get("errors", [{}])[0].get("extensions", {}).get("code", "OK"))
    assert "THROTTLED" in statuses and statuses[0] == "OK"
    throttled = gql(sandbox_server, token, heavy)
    assert throttled.status_code == 200 and throttled.json()["extensions"]["cost"]["actualQueryCost"] is None
    sandbox_server.advance_clock(20)  # 100 points/s restore
    assert "errors" not in gql(sandbox_server, token, heavy).json()
    too_big = "{ productVariants(first: 250) { nodes { id inventoryItem { inventoryLevels(first: 5) { nodes { id }"
    too_big += " } } } } }"
    answer = gql(sandbox_server, token, too_big).json()
    assert answer["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_plus_plan_has_a_bigger_bucket(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    sandbox_server.set_faults("shopify", plan="plus")
    status = gql(sandbox_server, token, "{ shop { name } }").json()["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 20000.0 and status["restoreRate"] == 1000.0


def signed_ok(secret: str, req: dict) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), req["body"], hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, req["headers"]["X-Shopify-Hmac-Sha256"])


def test_webhook_signature_matches_the_reference_vector_algorithm():
    from sandbox.webhooks import shopify_signature, square_signature

    # Known-good values from the facts sheet's vectors (checked there against the official libraries).
    assert shopify_signature("hush", b'{"a":1}') == "3+Yq/TpwjqJ7IXuMq8EfED7b+y0XbokqOKLUdagDxMI="
    assert square_signature("test", "https://example.com/webhooks/square", b'{"a":1}') == (
        "R2XDuwg3MuqSfbsBITza5iUHJUdoCyWrgI7/asLmZ48=")
    from sandbox.shopify.oauth import callback_hmac

    query = {"code": "abc", "shop": "some-shop.myshopify.com", "state": "xyz", "timestamp": "1700000000"}
    assert callback_hmac("hush", query) == "4ba67c30978722b73a1167434f5953d8cd99d1d9ecba773fb7e245478d21d82d"


def test_sale_delivers_orders_create_and_inventory_levels_update_with_real_headers(sandbox_server, receiver):
    sandbox_server.create_sale("shopify", SHOP, location=1, items=[("SKU-000002", 1)])
    wait_until(lambda: len(receiver.requests) >= 2, timeout=10, what="shopify deliveries")
    topics = {r["headers"]["X-Shopify-Topic"] for r in receiver.requests}
    assert topics == {"orders/create", "inventory_levels/update"}
    for req in receiver.requests:
        h = req["headers"]
        assert req["path"] == "/webhooks/shopify/" and h["X-Shopify-Shop-Domain"] == SHOP
        assert h["X-Shopify-Webhook-Id"] and h["X-Shopify-Event-Id"] and h["X-Shopify-Triggered-At"]
        assert h["X-Shopify-API-Version"] and signed_ok(sandbox_server.config.shopify_client_secret, req)
    order = next(json.loads(r["body"]) for r in receiver.requests if r["headers"]["X-Shopify-Topic"] == "orders/create")
    assert order["line_items"][0]["sku"] == "SKU-000002" and isinstance(order["line_items"][0]["price"], str)


def test_subscriptions_route_deliveries_and_retries_keep_the_webhook_id(sandbox_server, receiver):
    token = connect(sandbox_server)["access_token"]
    create = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { webhookSubscription { id topic uri }
      userErrors { field message } } }"""
    variables = {"topic": "INVENTORY_LEVELS_UPDATE", "sub": {"uri": f"{receiver.url}/hooks/inventory"}}
    made = gql(sandbox_server, token, create, variables).json()["data"]["webhookSubscriptionCreate"]
    assert made["userErrors"] == [] and made["webhookSubscription"]["topic"] == "INVENTORY_LEVELS_UPDATE"
    again = gql(sandbox_server, token, create, variables).json()["data"]["webhookSubscriptionCreate"]
    assert "already been taken" in again["userErrors"][0]["message"]
    receiver.statuses = [503, 503]
    sandbox_server.change_stock("shopify", SHOP, item=4, location=2, on_hand=9)
    wait_until(lambda: len(receiver.requests) >= 3, timeout=10, what="retried delivery")
    assert {r["path"] for r in receiver.requests} == {"/hooks/inventory"}
    assert len({r["headers"]["X-Shopify-Webhook-Id"] for r in receiver.requests}) == 1
    assert json.loads(receiver.requests[-1]["body"])["available"] <= 9


@pytest.mark.parametrize("status", [500, 503])
def test_injected_5xx_answers_with_shopify_error_body(sandbox_server, status):
    token = connect(sandbox_server)["access_token"]
    sandbox_server.set_faults("shopify", fail_next=[status])
    answer = gql(sandbox_server, token, "{ shop { name } }")
    assert answer.status_code == status and "errors" in answer.json()


def test_variants_cannot_be_sorted_by_updated_at_as_at_shopify(sandbox_server):
    from tests.sandbox.test_shopify_published_schema import OLD_VARIANTS

    token = connect(sandbox_server)["access_token"]
    refused = gql(sandbox_server, token, OLD_VARIANTS).json()
    assert refused.get("data") is None
    assert any("UPDATED_AT" in e["message"] and "ProductVariantSortKeys" in e["message"] for e in refused["errors"])
    by_id = gql(sandbox_server, token, OLD_VARIANTS.replace("UPDATED_AT", "ID")).json()
    assert "errors" not in by_id and by_id["data"]["productVariants"]["nodes"]


def test_app_uninstall_is_the_only_way_out_and_ends_every_token(sandbox_server):
    tokens = connect(sandbox_server)
    # The URL the portal used to call (a version segment before admin/api_permissions) does not exist.
    wrong = requests.delete(f"{sandbox_server.url}/shopify/{SHOP}/admin/api/{VERSION}/admin/api_permissions/"
                            "current.json", headers={"X-Shopify-Access-Token": tokens["access_token"]}, timeout=5)
    assert wrong.status_code == 404
    answer = gql(sandbox_server, tokens["access_token"],
                 "mutation { appUninstall { app { id } userErrors { field message code } } }").json()
    assert answer["data"]["appUninstall"]["userErrors"] == [] and answer["data"]["appUninstall"]["app"]["id"]
    assert sandbox_server.counters()["events"]["shopify:app_uninstall"] == 1
    assert gql(sandbox_server, tokens["access_token"], "{ shop { name } }").status_code == 401
    refreshed = exchange(sandbox_server, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 400


def test_actual_cost_is_never_above_requested_for_the_portal_documents(sandbox_server):
    from integrations.providers.shopify import queries

    token = connect(sandbox_server)["access_token"]
    first_id = {kind: gql(sandbox_server, token, f"{{ {kind}(first: 1) {{ nodes {{ id }} }} }}").json()
                ["data"][kind]["nodes"][0]["id"] for kind in ("locations", "orders")}
    refund = sandbox_server.refund_order("shopify", order=0, items=[(0, 1)])["refund_id"]
    documents = {"LOCATIONS": {}, "LOCATION_IDS": {}, "VARIANTS": {}, "ORDERS": {}, "SHOP": {},
                 "INVENTORY_LEVELS": {"location": first_id["locations"]}, "ORDER_LINES": {"id": first_id["orders"]},
                 "ORDER": {"id": first_id["orders"]}, "ORDER_REFUNDS": {"id": first_id["orders"]},
                 "REFUND_LINES": {"id": refund}}
    for name, variables in documents.items():
        body = gql(sandbox_server, token, getattr(queries, name), variables).json()
        assert "errors" not in body, (name, body.get("errors"))
        cost = body["extensions"]["cost"]
        assert 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"], (name, cost)
    # A full page of levels, each with four named quantities (a plain list, priced as one object per level).
    body = gql(sandbox_server, token, queries.INVENTORY_LEVELS, {"location": first_id["locations"]}).json()
    levels = body["data"]["location"]["inventoryLevels"]["nodes"]
    assert levels and all(len(level["quantities"]) == 4 for level in levels)
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 2 + 100 * (1 + 1 + 1)
    assert body["extensions"]["cost"]["actualQueryCost"] == 1 + 2 + len(levels) * (1 + 1 + 1)
