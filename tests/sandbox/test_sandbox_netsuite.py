"""The NetSuite stand-in: OAuth 2.0 code grant with PKCE, and SuiteQL."""

from __future__ import annotations

import base64
import hashlib
import threading
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests

ACCOUNT, HOST = "1234567_SB1", "1234567-sb1"
REDIRECT = "http://127.0.0.1:8000/integrations/netsuite/callback/"
VERIFIER = "n" * 60
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
STATE = "s" * 22


def authorize(sb, decision="allow", **overrides) -> dict:
    params = {"response_type": "code", "client_id": sb.config.netsuite_client_id, "redirect_uri": REDIRECT,
              "scope": "rest_webservices", "state": STATE, "code_challenge": CHALLENGE,
              "code_challenge_method": "S256", **overrides}
    url = f"{sb.url}/netsuite/{HOST}/app/app/login/oauth2/authorize.nl"
    page = requests.get(url, params=params, allow_redirects=False, timeout=5)
    if page.status_code == 302:  # refused before the consent page
        return dict(parse_qsl(urlsplit(page.headers["Location"]).query))
    assert page.status_code == 200 and 'id="allow"' in page.text and 'id="deny"' in page.text
    answer = requests.post(url, data={**params, "decision": decision}, allow_redirects=False, timeout=5)
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


def token_call(sb, auth=None, **form):
    cfg = sb.config
    auth = auth if auth is not None else (cfg.netsuite_client_id, cfg.netsuite_client_secret)
    return requests.post(f"{sb.url}/netsuite/{HOST}/suitetalk/services/rest/auth/oauth2/v1/token", data=form,
                         auth=auth or None, timeout=5)


def connect(sb) -> dict:
    code = authorize(sb)["code"]
    answer = token_call(sb, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                        code_verifier=VERIFIER)
    assert answer.status_code == 200, answer.text
    return answer.json()


def suiteql(sb, access_token, q, limit=1000, offset=0, prefer="transient"):
    headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
    if prefer:
        headers["Prefer"] = prefer
    return requests.post(f"{sb.url}/netsuite/{HOST}/suitetalk/services/rest/query/v1/suiteql",
                         params={"limit": limit, "offset": offset}, json={"q": q}, headers=headers, timeout=30)


@pytest.mark.parametrize("overrides, reason", [
    ({"state": "s" * 21}, "state"),
    ({"state": "s" * 1025}, "state"),
    ({"code_challenge_method": "plain"}, "S256"),
    ({"code_challenge": ""}, "S256"),
    ({"scope": "everything"}, "scope"),
])
def test_authorize_enforces_state_length_and_pkce_s256(sandbox_server, overrides, reason):
    answer = authorize(sandbox_server, **overrides)
    assert answer["error"] == "invalid_request" and reason in answer["error_description"]
    assert "code" not in answer


def test_callback_carries_code_state_and_company_and_deny_is_access_denied(sandbox_server):
    allowed = authorize(sandbox_server)
    assert allowed["state"] == STATE and allowed["code"] and allowed["company"] == ACCOUNT
    assert authorize(sandbox_server, decision="deny")["error"] == "access_denied"


def test_token_uses_basic_auth_gives_3600s_tokens_and_7_day_refresh(sandbox_server):
    tokens = connect(sandbox_server)
    assert tokens["expires_in"] == "3600" and tokens["token_type"] == "bearer"
    refresh = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert refresh["exp"] - refresh["iat"] == 604800 and access["exp"] - access["iat"] == 3600
    again = token_call(sandbox_server, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert again["access_token"] != tokens["access_token"] and "refresh_token" not in again
    sandbox_server.advance_clock(7 * 86400 + 1)
    late = token_call(sandbox_server, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_token_errors_wrong_secret_wrong_verifier_reused_code(sandbox_server):
    code = authorize(sandbox_server)["code"]
    wrong_secret = token_call(sandbox_server, auth=(sandbox_server.config.netsuite_client_id, "nope"),
                              grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                              code_verifier=VERIFIER)
    assert wrong_secret.status_code == 401 and wrong_secret.json() == {"error": "invalid_client"}
    wrong_verifier = token_call(sandbox_server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                                code_verifier="x" * 60)
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
    burnt = token_call(sandbox_server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                       code_verifier=VERIFIER)
    assert burnt.status_code == 400  # the code was used up by the failed attempt


LOCATIONS = ("SELECT l.id, l.name, l.fullname, l.isinactive, TO_CHAR(l.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') "
             "AS lastmodified FROM location l ORDER BY l.id")
ITEMS = ("SELECT i.id, i.itemid, i.upccode, i.displayname, i.isinactive, i.itemtype, "
         "TO_CHAR(i.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lastmodified FROM item i "
         "WHERE i.itemtype IN ('InvtPart', 'Assembly'){extra} ORDER BY i.id")
STOCK = ("SELECT iil.item, iil.location, i.itemid AS sku, iil.quantityonhand, iil.quantityavailable, "
         "iil.quantitycommitted, iil.quantityonorder FROM inventoryitemlocations iil JOIN item i ON i.id = iil.item "
         "WHERE i.itemtype IN ('InvtPart', 'Assembly'){extra} ORDER BY iil.item, iil.location")
HEADERS = ("SELECT t.id, t.tranid, t.type, t.status, t.voided, c.symbol AS currency, "
           "TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS "
           "lastmodified FROM transaction t LEFT JOIN currency c ON c.id = t.currency WHERE t.type IN ('CashSale', "
           "'CustInvc') AND t.lastmodifieddate >= TO_TIMESTAMP('2026-10-20 00:00:00', 'YYYY-MM-DD HH24:MI:SS') "
           "ORDER BY t.id")
LINES = ("SELECT tl.transaction, tl.id, tl.item, i.itemid AS sku, tl.location, tl.quantity, tl.rate, "
         "tl.foreignamount FROM transactionline tl LEFT JOIN item i ON i.id = tl.item WHERE tl.transaction IN ({ids}) "
         "AND tl.mainline = 'F' AND tl.taxline = 'F' AND tl.item IS NOT NULL ORDER BY tl.transaction, tl.id")


def test_suiteql_answers_the_portal_query_shapes_in_netsuites_format(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    locations = suiteql(sandbox_server, token, LOCATIONS).json()
    assert locations["count"] == 3 and locations["hasMore"] is False and locations["totalResults"] == 3
    first = locations["items"][0]
    assert first["links"] == [] and set(first) == {"links", "id", "name", "fullname", "isinactive", "lastmodified"}
    assert len(first["lastmodified"]) == 19  # TO_CHAR applied
    items = suiteql(sandbox_server, token, ITEMS.format(extra=""), limit=150).json()
    assert items["count"] == 150 and items["hasMore"] and items["totalResults"] == 400
    assert items["items"][0]["itemid"] == "SKU-000001"
    keyset = suiteql(sandbox_server, token, ITEMS.format(extra=" AND (i.id > 1149)"), limit=1000).json()
    assert keyset["items"][0]["id"] == 1150 and keyset["count"] == 250
    stock = suiteql(sandbox_server, token, STOCK.format(extra=" AND ((iil.item > 1001) OR (iil.item = 1001 AND "
                                                               "iil.location > 2))"), limit=5).json()
    assert [(r["item"], r["location"]) for r in stock["items"]][:2] == [(1001, 3), (1002, 1)]
    headers = suiteql(sandbox_server, token, HEADERS).json()
    assert headers["items"] and all(h["lastmodified"] >= "2026-10-20" for h in headers["items"])
    assert headers["items"][0]["currency"] == "USD"
    ids = ", ".join(str(h["id"]) for h in headers["items"][:20])
    lines = suiteql(sandbox_server, token, LINES.format(ids=ids)).json()["items"]
    assert lines and all("item" in line and line["id"] >= 1 for line in lines)
    assert {line["transaction"] for line in lines} == {h["id"] for h in headers["items"][:20]}


def test_transactionline_has_the_mainline_row_like_netsuite(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    rows = suiteql(sandbox_server, token, "SELECT tl.transaction, tl.id, tl.mainline, tl.item FROM transactionline "
                                          "tl WHERE tl.transaction = 1 ORDER BY tl.transaction, tl.id").json()["items"]
    assert rows[0]["id"] == 0 and rows[0]["mainline"] == "T" and "item" not in rows[0]  # null columns left out
    assert all(r["mainline"] == "F" for r in rows[1:])


def test_offset_paging_and_the_100k_cap(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    pages, offset = [], 0
    while True:
        page = suiteql(sandbox_server, token, ITEMS.format(extra=""), limit=100, offset=offset).json()
        pages.append(page)
        if not page["hasMore"]:
            break
        offset += page["count"]
    ids = [r["id"] for p in pages for r in p["items"]]
    assert ids == sorted(set(ids)) and len(ids) == 400 and pages[0]["links"][1]["rel"] == "next"
    capped = suiteql(sandbox_server, token, ITEMS.format(extra=""), offset=100_000)
    assert capped.status_code == 400 and capped.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"


@pytest.mark.parametrize("q, prefer", [
    ("SELECT * FROM customer", "transient"),
    ("DELETE FROM item", "transient"),
    ("SELECT id FROM item ORDER BY itemid", "transient"),
    ("SELECT nosuchcolumn FROM item", "transient"),
    ("SELECT id FROM item", None),
])
def test_unsupported_or_malformed_queries_get_netsuites_400_body(sandbox_server, q, prefer):
    token = connect(sandbox_server)["access_token"]
    answer = suiteql(sandbox_server, token, q, prefer=prefer)
    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == 400 and body["title"] == "Bad Request" and body["o:errorDetails"][0]["detail"]


def test_bad_token_is_invalid_login(sandbox_server):
    answer = suiteql(sandbox_server, "not-a-token", "SELECT id FROM location")
    assert answer.status_code == 401 and answer.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_concurrency_plan_answers_429_past_the_pool_and_counts_max_in_flight(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    sandbox_server.set_faults("netsuite", plan="standard", latency_ms=300)  # pool of 5; requests overlap
    barrier, statuses = threading.Barrier(8), []

    def call():
        barrier.wait()
        statuses.append(suiteql(sandbox_server, token, LOCATIONS).status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sandbox_server.max_in_flight("netsuite") >= 6  # the server really served them concurrently
    assert statuses.count(429) >= 1 and statuses.count(200) >= 1


def test_the_root_subsidiary_carries_the_company_name(sandbox_server):
    token = connect(sandbox_server)["access_token"]
    q = "SELECT id, name FROM subsidiary WHERE parent IS NULL AND iselimination = 'F' ORDER BY id"
    answer = suiteql(sandbox_server, token, q).json()
    assert answer["count"] == 1 and answer["items"][0]["name"].startswith("Sandbox Company ")
    children = suiteql(sandbox_server, token, "SELECT id, name, parent FROM subsidiary WHERE parent = 1").json()
    assert [row["id"] for row in children["items"]] == [2]
