"""The four pagination styles, streaming: a page is requested only when the previous one has been consumed."""

from __future__ import annotations

import json

import pytest
import responses
from django.conf import settings
from responses import matchers

pytestmark = pytest.mark.django_db


@responses.activate
def test_square_body_cursor(make_connection, client_factory):
    conn = make_connection()
    url = f"{settings.SQUARE_BASE_URL}/v2/orders/search"
    body = {"location_ids": ["L1"], "query": {"sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}}
    responses.post(url, json={"orders": [{"id": "o1"}, {"id": "o2"}], "cursor": "c2"},
                   match=[matchers.json_params_matcher(body)])
    responses.post(url, json={"orders": [{"id": "o3"}]}, match=[matchers.json_params_matcher({**body, "cursor": "c2"})])
    pages = client_factory(conn).paginate_cursor("/v2/orders/search", body, "orders")
    first = next(pages)
    assert [o["id"] for o in first.items] == ["o1", "o2"] and first.cursor == "c2"
    assert len(responses.calls) == 1  # streaming: the next page is not fetched yet
    second = next(pages)
    assert [o["id"] for o in second.items] == ["o3"] and second.cursor is None
    assert list(pages) == []


@responses.activate
def test_square_get_list_cursor_in_query_and_resume(make_connection, client_factory):
    conn = make_connection()
    url = f"{settings.SQUARE_BASE_URL}/v2/catalog/list"
    responses.get(url, json={"objects": [{"id": "v9"}]},
                  match=[matchers.query_param_matcher({"types": "ITEM,ITEM_VARIATION", "cursor": "saved"})])
    pages = list(client_factory(conn).paginate_cursor("/v2/catalog/list", {"types": "ITEM,ITEM_VARIATION"},
                                                      "objects", method="GET", cursor="saved"))
    assert [p.items for p in pages] == [[{"id": "v9"}]]


@responses.activate
def test_shopify_link_header(make_connection, client_factory):
    conn = make_connection("shopify")
    base = client_factory(conn).base_url
    next_url = f"{base}/products.json?limit=2&page_info=abc"
    responses.get(f"{base}/products.json", json={"products": [{"id": 1}, {"id": 2}]},
                  headers={"Link": f'<{next_url}>; rel="next"', "X-Shopify-Shop-Api-Call-Limit": "1/40"},
                  match=[matchers.query_param_matcher({"limit": "2"})])
    responses.get(f"{base}/products.json", json={"products": [{"id": 3}]},
                  headers={"Link": f'<{base}/products.json?limit=2&page_info=prev>; rel="previous"'},
                  match=[matchers.query_param_matcher({"limit": "2", "page_info": "abc"})])
    pages = client_factory(conn).paginate_link("/products.json", {"limit": 2}, "products")
    first = next(pages)
    assert first.cursor == next_url and len(responses.calls) == 1
    assert [p["id"] for p in next(pages).items] == [3]
    assert list(pages) == []


@responses.activate
def test_link_to_another_host_is_refused(make_connection, client_factory):
    from integrations.http.errors import ProviderError

    conn = make_connection("shopify")
    base = client_factory(conn).base_url
    responses.get(f"{base}/products.json", json={"products": []},
                  headers={"Link": '<https://evil.example/steal?page_info=x>; rel="next"'})
    pages = client_factory(conn).paginate_link("/products.json", {}, "products")
    next(pages)
    with pytest.raises(ProviderError, match="refusing to send credentials"):
        next(pages)


@responses.activate
def test_graphql_connection_nodes_and_edges(make_connection, client_factory):
    conn = make_connection("shopify")
    url = f"{client_factory(conn).base_url}/graphql.json"
    cost = {"requestedQueryCost": 12, "actualQueryCost": 8,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990.0, "restoreRate": 100.0}}
    responses.post(url, json={"data": {"inventoryItem": {"inventoryLevels": {
        "edges": [{"node": {"id": "a"}}], "pageInfo": {"hasNextPage": True, "endCursor": "E1"}}}},
        "extensions": {"cost": cost}})
    responses.post(url, json={"data": {"inventoryItem": {"inventoryLevels": {
        "nodes": [{"id": "b"}], "pageInfo": {"hasNextPage": False, "endCursor": "E2"}}}},
        "extensions": {"cost": cost}})
    pages = client_factory(conn).paginate_graphql("query($after:String){...}", {"id": "gid://x"},
                                                  "inventoryItem.inventoryLevels")
    first = next(pages)
    assert first.items == [{"id": "a"}] and first.cursor == "E1" and len(responses.calls) == 1
    second = next(pages)
    assert second.items == [{"id": "b"}] and second.cursor is None
    sent = [json.loads(c.request.body)["variables"] for c in responses.calls]
    assert sent == [{"id": "gid://x", "after": None}, {"id": "gid://x", "after": "E1"}]


@responses.activate
def test_netsuite_offset_has_more(make_connection, client_factory):
    conn = make_connection("netsuite")
    url = f"{client_factory(conn).base_url}/services/rest/query/v1/suiteql"
    responses.post(url, json={"items": [{"id": "1"}, {"id": "2"}], "count": 2, "hasMore": True, "offset": 0},
                   match=[matchers.query_param_matcher({"limit": "2", "offset": "0"}),
                          matchers.header_matcher({"Prefer": "transient"})])
    responses.post(url, json={"items": [{"id": "3"}], "count": 1, "hasMore": False, "offset": 2},
                   match=[matchers.query_param_matcher({"limit": "2", "offset": "2"})])
    pages = client_factory(conn).paginate_offset("/services/rest/query/v1/suiteql", {"q": "SELECT id FROM item"},
                                                 limit=2)
    first = next(pages)
    assert first.cursor == 2 and len(responses.calls) == 1
    assert [i["id"] for i in next(pages).items] == ["3"]
    assert list(pages) == []
