"""The Square stand-in, checked against the facts sheet and Square's official SDK (squareup)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from square import Square
from square.utils.webhooks_helper import verify_signature

from tests.processes import wait_until

REDIRECT = "http://127.0.0.1:8000/integrations/square/callback/"
SCOPES = "MERCHANT_PROFILE_READ ITEMS_READ INVENTORY_READ ORDERS_READ"


def authorize(sb, decision="allow", **extra) -> dict:
    cfg = sb.config
    params = {"client_id": cfg.square_client_id, "scope": SCOPES, "state": "st-123", "redirect_uri": REDIRECT,
              **extra}
    page = requests.get(f"{sb.url}/square/oauth2/authorize", params=params, timeout=5)
    assert page.status_code == 200 and ">Allow<" in page.text and ">Deny<" in page.text
    answer = requests.post(f"{sb.url}/square/oauth2/authorize", data={**params, "decision": decision},
                           allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token(sb, **body):
    cfg = sb.config
    return requests.post(f"{sb.url}/square/oauth2/token", json={"client_id": cfg.square_client_id, **body}, timeout=5)


def connect(sb) -> dict:
    code = authorize(sb)["code"]
    answer = token(sb, client_secret=sb.config.square_client_secret, code=code, grant_type="authorization_code",
                   redirect_uri=REDIRECT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def api(sb, access_token, method, path, timeout=10, **kw):
    return requests.request(method, f"{sb.url}/square{path}", headers={"Authorization": f"Bearer {access_token}"},
                            timeout=timeout, **kw)


def test_authorize_allow_redirects_with_code_and_state_deny_with_access_denied(sandbox_server):
    allowed = authorize(sandbox_server)
    assert allowed["code"].startswith("sq0cgp-") and allowed["state"] == "st-123"
    assert allowed["response_type"] == "code"
    denied = authorize(sandbox_server, decision="deny")
    assert denied["error"] == "access_denied" and denied["state"] == "st-123" and denied["error_description"]
    assert "code" not in denied


def test_token_answer_has_expires_at_string_and_refresh_keeps_the_same_refresh_token(sandbox_server):
    tokens = connect(sandbox_server)
    assert tokens["token_type"] == "bearer" and "expires_in" not in tokens
    assert tokens["expires_at"].endswith("Z") and tokens["merchant_id"].startswith("ML")
    refreshed = token(sandbox_server, client_secret=sandbox_server.config.square_client_secret,
                      grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert refreshed["refresh_token"] == tokens["refresh_token"]
    assert refreshed["access_token"] != tokens["access_token"]
    assert sandbox_server.token_calls("square", "refresh_token") == 1


def test_code_is_single_use_expires_after_five_minutes_and_needs_the_right_secret(sandbox_server):
    secret = sandbox_server.config.square_client_secret
    code = authorize(sandbox_server)["code"]
    wrong = token(sandbox_server, client_secret="sq0csp-wrong", code=code, grant_type="authorization_code",
                  redirect_uri=REDIRECT)
    assert wrong.status_code == 401 and wrong.json()["errors"][0]["code"] == "UNAUTHORIZED"
    first = token(sandbox_server, client_secret=secret, code=code, grant_type="authorization_code",
                  redirect_uri=REDIRECT)
    assert first.status_code == 200
    reused = token(sandbox_server, client_secret=secret, code=code, grant_type="authorization_code",
                   redirect_uri=REDIRECT)
    assert reused.status_code == 401 and "already redeemed" in reused.json()["errors"][0]["detail"]
    late = authorize(sandbox_server)["code"]
    sandbox_server.advance_clock(301)
    expired = token(sandbox_server, client_secret=secret, code=late, grant_type="authorization_code",
                    redirect_uri=REDIRECT)
    assert expired.status_code == 401 and "expired" in expired.json()["errors"][0]["detail"]


def test_pkce_flow_checks_the_verifier_and_rotates_refresh_tokens(sandbox_server):
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = authorize(sandbox_server, code_challenge=challenge)["code"]
    bad = token(sandbox_server, code=code, code_verifier="x" * 64, grant_type="authorization_code",
                redirect_uri=REDIRECT)
    assert bad.status_code == 401
    good = token(sandbox_server, code=code, code_verifier=verifier, grant_type="authorization_code",
                 redirect_uri=REDIRECT).json()
    assert good["refresh_token_expires_at"]
    rotated = token(sandbox_server, grant_type="refresh_token", refresh_token=good["refresh_token"]).json()
    assert rotated["refresh_token"] != good["refresh_token"]
    reuse = token(sandbox_server, grant_type="refresh_token", refresh_token=good["refresh_token"])
    assert reuse.status_code == 401


def test_revoke_needs_client_authorization_and_revokes_every_token_of_the_seller(sandbox_server):
    tokens = connect(sandbox_server)
    cfg = sandbox_server.config
    body = {"client_id": cfg.square_client_id, "access_token": tokens["access_token"]}
    bearer = requests.post(f"{sandbox_server.url}/square/oauth2/revoke", json=body,
                           headers={"Authorization": f"Bearer {cfg.square_client_secret}"}, timeout=5)
    assert bearer.status_code == 401
    ok = requests.post(f"{sandbox_server.url}/square/oauth2/revoke", json=body,
                       headers={"Authorization": f"Client {cfg.square_client_secret}"}, timeout=5)
    assert ok.json() == {"success": True}
    answer = api(sandbox_server, tokens["access_token"], "GET", "/v2/locations")
    assert answer.status_code == 401 and answer.json()["errors"][0]["code"] == "ACCESS_TOKEN_REVOKED"
    refresh = token(sandbox_server, client_secret=cfg.square_client_secret, grant_type="refresh_token",
                    refresh_token=tokens["refresh_token"])
    assert refresh.status_code == 401


def test_expired_access_token_answers_access_token_expired(sandbox_server):
    tokens = connect(sandbox_server)
    sandbox_server.advance_clock(30 * 86400 + 1)
    answer = api(sandbox_server, tokens["access_token"], "GET", "/v2/locations")
    assert answer.status_code == 401 and answer.json()["errors"][0]["code"] == "ACCESS_TOKEN_EXPIRED"


def test_official_sdk_lists_locations_pages_the_catalog_and_searches_orders(sandbox_server):
    tokens = connect(sandbox_server)
    client = Square(token=tokens["access_token"], base_url=f"{sandbox_server.url}/square")
    locations = client.locations.list().locations
    assert len(locations) == 3 and all(loc.merchant_id == tokens["merchant_id"] for loc in locations)
    objects = list(client.catalog.list(types="ITEM,ITEM_VARIATION"))
    m = sandbox_server.merchant("square")
    assert len(objects) == m.sizes.products * (1 + m.sizes.variants_per_product)  # 600: six pages of 100
    variations = [o for o in objects if o.type == "ITEM_VARIATION"]
    assert {v.item_variation_data.sku for v in variations} == {f"SKU-{i + 1:06d}" for i in range(400)}
    orders = client.orders.search(location_ids=[loc.id for loc in locations], limit=100,
                                  query={"sort": {"sort_field": "CREATED_AT", "sort_order": "ASC"}})
    assert len(orders.orders) == 100 and orders.cursor
    assert orders.orders[0].line_items[0].quantity.isdigit()


def test_orders_search_rules(sandbox_server):
    tokens = connect(sandbox_server)
    locs = [loc["id"] for loc in api(sandbox_server, tokens["access_token"], "GET", "/v2/locations").json()
            ["locations"]]
    search = lambda body: api(sandbox_server, tokens["access_token"], "POST", "/v2/orders/search", json=body)  # noqa: E731
    assert search({"location_ids": locs * 4}).status_code == 400  # more than 10 locations
    assert search({"location_ids": locs, "limit": 1001}).status_code == 400
    mismatched = search({"location_ids": locs, "query": {
        "filter": {"date_time_filter": {"updated_at": {"start_at": "2026-09-01T00:00:00Z"}}},
        "sort": {"sort_field": "CREATED_AT"}}})
    assert mismatched.status_code == 400 and mismatched.json()["errors"][0]["field"] == "query.sort.sort_field"
    query = {"filter": {"date_time_filter": {"updated_at": {"start_at": "2026-10-01T00:00:00Z"}}},
             "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}
    seen, cursor = [], None
    while True:
        page = search({"location_ids": locs, "limit": 40, "query": query, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        seen += page.json().get("orders", [])
        cursor = page.json().get("cursor")
        if not cursor:
            break
    assert seen and all(o["updated_at"] > "2026-10-01T00:00:00Z" for o in seen)
    assert [o["updated_at"] for o in seen] == sorted(o["updated_at"] for o in seen)
    m = sandbox_server.merchant("square")
    expected = [o for o in m.iter_orders() if o.updated_at.isoformat() > "2026-10-01T00:00:00"]
    assert len(seen) == len(expected)
    batch = api(sandbox_server, tokens["access_token"], "POST", "/v2/orders/batch-retrieve",
                json={"order_ids": [seen[0]["id"], "nope"]}).json()
    assert [o["id"] for o in batch["orders"]] == [seen[0]["id"]]


def test_inventory_counts_newest_first_with_updated_after_and_cursor(sandbox_server):
    tokens = connect(sandbox_server)
    sandbox_server.change_stock("square", item="SKU-000005", location=1, on_hand=7)
    counts, cursor = [], None
    while True:
        body = {"updated_after": "2026-10-25T00:00:00Z", "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = api(sandbox_server, tokens["access_token"], "POST", "/v2/inventory/counts/batch-retrieve",
                   json=body).json()
        counts += page["counts"]
        cursor = page.get("cursor")
        if not cursor:
            break
    # The change is the newest stock row: on hand 7 = IN_STOCK (for sale) + RESERVED_FOR_SALE.
    newest = [c for c in counts if (c["catalog_object_id"], c["location_id"]) ==
              (counts[0]["catalog_object_id"], counts[0]["location_id"])]
    assert sum(int(c["quantity"]) for c in newest if c["state"] in ("IN_STOCK", "RESERVED_FOR_SALE")) == 7
    stamps = [c["calculated_at"] for c in counts]
    assert stamps == sorted(stamps, reverse=True) and min(stamps) > "2026-10-25T00:00:00Z"
    keys = [(c["catalog_object_id"], c["location_id"], c["state"]) for c in counts]
    assert len(set(keys)) == len(keys)
    assert {c["state"] for c in counts} == {"IN_STOCK", "RESERVED_FOR_SALE", "IN_TRANSIT"}


def test_catalog_search_begin_time_returns_only_edited_objects(sandbox_server):
    tokens = connect(sandbox_server)
    before = sandbox_server.state.now_dt().isoformat().replace("+00:00", "Z")
    sandbox_server.edit_product("square", item="SKU-000010", price_cents=1234)
    found = api(sandbox_server, tokens["access_token"], "POST", "/v2/catalog/search",
                json={"object_types": ["ITEM_VARIATION"], "begin_time": before}).json()["objects"]
    assert [o["item_variation_data"]["sku"] for o in found] == ["SKU-000010"]
    assert found[0]["item_variation_data"]["price_money"] == {"amount": 1234, "currency": "USD"}


def test_webhooks_are_signed_as_the_official_helper_verifies_and_retried_on_5xx(sandbox_server, receiver):
    receiver.statuses = [500]
    sandbox_server.create_sale("square", location=0, items=[("SKU-000001", 2)])
    wait_until(lambda: len(receiver.requests) >= 3, timeout=10, what="square deliveries")
    first, retry = receiver.requests[0], next(r for r in receiver.requests[1:]
                                              if r["body"] == receiver.requests[0]["body"])
    for req in receiver.requests:
        assert verify_signature(request_body=req["body"].decode(),
                                signature_header=req["headers"]["x-square-hmacsha256-signature"],
                                signature_key=sandbox_server.config.square_signature_key,
                                notification_url=sandbox_server.square_webhook_url)
        assert req["path"] == "/webhooks/square/"
    assert retry["headers"]["square-retry-number"] == "1" and "square-retry-number" not in first["headers"]
    types = {requests.compat.json.loads(r["body"])["type"] for r in receiver.requests}
    assert types == {"order.updated", "inventory.count.updated"}
    # a different notification URL (even one trailing slash less) does not verify
    assert not verify_signature(request_body=first["body"].decode(),
                                signature_header=first["headers"]["x-square-hmacsha256-signature"],
                                signature_key=sandbox_server.config.square_signature_key,
                                notification_url=sandbox_server.square_webhook_url.rstrip("/"))


def test_duplicate_deliveries_repeat_the_same_event_id(sandbox_server, receiver):
    sandbox_server.config.duplicate_webhook_probability = 1.0
    sandbox_server.change_stock("square", item=3, location=0, on_hand=1)
    wait_until(lambda: len(receiver.requests) >= 2, timeout=10, what="duplicate delivery")
    bodies = [r["body"] for r in receiver.requests[:2]]
    assert bodies[0] == bodies[1]


@pytest.mark.parametrize("fault, status", [({"fail_next": [503]}, 503), ({"fail_next": [429], "retry_after": 7}, 429)])
def test_injected_faults_answer_in_squares_error_format(sandbox_server, fault, status):
    tokens = connect(sandbox_server)
    sandbox_server.set_faults("square", **fault)
    answer = api(sandbox_server, tokens["access_token"], "GET", "/v2/locations")
    assert answer.status_code == status and answer.json()["errors"][0]["category"]
    if status == 429:
        assert answer.headers["Retry-After"] == "7"
        assert answer.json()["errors"][0]["code"] == "RATE_LIMITED"
    assert api(sandbox_server, tokens["access_token"], "GET", "/v2/locations").status_code == 200


def test_rate_limit_plan_answers_rate_limited_past_the_budget(sandbox_server):
    tokens = connect(sandbox_server)
    sandbox_server.set_faults("square", square_requests_per_second=2)
    sandbox_server.freeze_clock()  # the bucket refills on the sandbox clock: no refill between these calls
    statuses = [api(sandbox_server, tokens["access_token"], "GET", "/v2/locations").status_code for _ in range(6)]
    assert 429 in statuses and statuses[0] == 200
    sandbox_server.advance_clock(10)
    assert api(sandbox_server, tokens["access_token"], "GET", "/v2/locations").status_code == 200


def test_timeout_fault_holds_the_request_past_the_client_timeout(sandbox_server):
    tokens = connect(sandbox_server)
    sandbox_server.set_faults("square", fail_next=[504], timeout_seconds=2.0)
    with pytest.raises(requests.Timeout):
        api(sandbox_server, tokens["access_token"], "GET", "/v2/locations", timeout=0.2)


@pytest.mark.parametrize("token_state, code", [("expired", "ACCESS_TOKEN_EXPIRED"),
                                               ("revoked", "ACCESS_TOKEN_REVOKED")])
def test_token_state_fault_makes_valid_tokens_answer_expired_or_revoked(sandbox_server, token_state, code):
    tokens = connect(sandbox_server)
    sandbox_server.set_faults("square", token_state=token_state)
    answer = api(sandbox_server, tokens["access_token"], "GET", "/v2/locations")
    assert answer.status_code == 401 and answer.json()["errors"][0]["code"] == code


def test_tokens_survive_a_restart_when_persisted(tmp_path):
    from sandbox.state import SandboxConfig, SandboxState

    first = SandboxState(SandboxConfig(persist_dir=str(tmp_path)))
    value = first.issue_token("square", "MLX", "cid", "access", 3600, scopes=["ITEMS_READ"])
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600
    again = SandboxState(SandboxConfig(persist_dir=str(tmp_path)))
    assert again.token(value, "square").scopes == ["ITEMS_READ"]
