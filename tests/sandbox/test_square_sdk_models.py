"""Every Square sandbox answer the portal reads parses through the official SDK's (squareup) response models, with
no field the model does not know and every enum value (inventory and order states) one the SDK names.

The bodies are the ones the portal's streams, webhook handlers and OAuth flow send."""

from __future__ import annotations

import json
import typing

import pydantic
from square.core.pydantic_utilities import parse_obj_as
from square.types.batch_get_inventory_counts_response import BatchGetInventoryCountsResponse
from square.types.batch_get_orders_response import BatchGetOrdersResponse
from square.types.inventory_state import InventoryState
from square.types.list_locations_response import ListLocationsResponse
from square.types.obtain_token_response import ObtainTokenResponse
from square.types.order_state import OrderState
from square.types.retrieve_token_status_response import RetrieveTokenStatusResponse
from square.types.search_catalog_objects_response import SearchCatalogObjectsResponse
from square.types.search_orders_response import SearchOrdersResponse

from integrations.providers.square import mappers
from sandbox.square.objects import SquareIds
from tests.processes import wait_until

from .test_sandbox_square import api, authorize, token

REDIRECT = "http://127.0.0.1:8000/integrations/square/callback/"


def literals(union) -> set[str]:
    return set(typing.get_args(typing.get_args(union)[0]))


def unknown_fields(value, path="") -> list[str]:
    """Fields the SDK model kept only as extras (it allows them): a sandbox inventing a field shows up here."""
    found = []
    if isinstance(value, pydantic.BaseModel):
        found += [f"{path}.{name}" for name in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += unknown_fields(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += unknown_fields(item, f"{path}[{index}]")
    return found


def parsed(model, answer):
    assert answer.status_code == 200, answer.text
    result = parse_obj_as(model, answer.json())
    assert unknown_fields(result) == [], model.__name__
    return result


def test_every_answer_the_portal_reads_parses_through_the_sdk_models(sandbox_server):
    sb = sandbox_server
    code = authorize(sb)["code"]
    grant = parsed(ObtainTokenResponse, token(sb, client_secret=sb.config.square_client_secret, code=code,
                                              grant_type="authorization_code", redirect_uri=REDIRECT))
    access = grant.access_token
    status = api(sb, access, "POST", "/oauth2/token/status")
    parsed(RetrieveTokenStatusResponse, status)

    locations = parsed(ListLocationsResponse, api(sb, access, "GET", "/v2/locations")).locations
    location_ids = sorted(loc.id for loc in locations)

    body = {"object_types": ["ITEM", "ITEM_VARIATION"], "include_related_objects": True, "limit": 1000,
            "begin_time": "2026-01-01T00:00:00Z", "include_deleted_objects": True}
    sb.edit_product("square", item=4, deleted=True)
    catalog = parsed(SearchCatalogObjectsResponse, api(sb, access, "POST", "/v2/catalog/search", json=body))
    assert any(obj.is_deleted for obj in catalog.objects)

    counts = parsed(BatchGetInventoryCountsResponse, api(sb, access, "POST", "/v2/inventory/counts/batch-retrieve",
                                                        json={"limit": 1000, "states": mappers.STOCK_STATES}))
    states = {count.state for count in counts.counts}
    assert states <= literals(InventoryState) and {"IN_STOCK", "RESERVED_FOR_SALE", "IN_TRANSIT"} <= states

    query = {"sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}
    orders = parsed(SearchOrdersResponse, api(sb, access, "POST", "/v2/orders/search",
                                              json={"location_ids": location_ids[:10], "limit": 1000,
                                                    "query": query})).orders
    order_states = {order.state for order in orders}
    assert order_states <= literals(OrderState) and "OPEN" in order_states
    assert all((order.state == "OPEN") == (order.closed_at is None) for order in orders)
    fetched = parsed(BatchGetOrdersResponse, api(sb, access, "POST", "/v2/orders/batch-retrieve",
                                                 json={"order_ids": [orders[0].id, orders[-1].id]}))
    assert len(fetched.orders) == 2


def test_order_updated_webhooks_carry_increasing_versions(sandbox_server, receiver):
    sale = sandbox_server.create_sale("square", location=0, items=[(1, 1)])

    def updates():
        events = [json.loads(r["body"]) for r in receiver.requests]
        found = [e["data"]["object"]["order_updated"] for e in events if e.get("type") == "order.updated"]
        found = [u for u in found if u["order_id"] == sale["order_id"]]
        return found if len(found) >= 2 else None

    found = wait_until(updates, timeout=10, interval=0.05, what="two order.updated deliveries")
    assert sorted((u["version"], u["state"]) for u in found) == [(1, "OPEN"), (2, "COMPLETED")]


def test_the_pinned_square_version_is_the_one_the_sdk_models_describe(settings):
    from square.core.client_wrapper import BaseClientWrapper

    headers = BaseClientWrapper(token="x", base_url="https://square.example.test").get_headers()
    assert settings.SQUARE_API_VERSION == headers["Square-Version"]


def test_an_itemized_refund_and_its_webhooks_parse_through_the_sdk_models(sandbox_server, receiver):
    """The refund order (its ``returns``) and the ``order.created`` / ``refund.created`` / ``refund.updated``
    events the sandbox sends for it are what the squareup SDK's models describe, with no unknown field."""
    from square.types.order_created_event import OrderCreatedEvent
    from square.types.refund_created_event import RefundCreatedEvent
    from square.types.refund_updated_event import RefundUpdatedEvent

    sb = sandbox_server
    sale = sb.create_sale("square", location=0, items=[(1, 2)])
    m = sb.merchant("square")
    ids = SquareIds(m)
    refund_order_id = sb.refund_order("square", order=ids.order_index(sale["order_id"]), items=[(0, 1)])["order_id"]
    models = {"order.created": OrderCreatedEvent, "refund.created": RefundCreatedEvent,
              "refund.updated": RefundUpdatedEvent}

    def refund_events():
        events = [json.loads(r["body"]) for r in receiver.requests]
        found = [e for e in events if e.get("type") in models]
        return found if len(found) >= 3 else None

    for event in wait_until(refund_events, timeout=10, interval=0.05, what="the refund's webhooks"):
        model = parse_obj_as(models[event["type"]], event)
        assert unknown_fields(model) == [], event["type"]
        if event["type"].startswith("refund."):
            assert model.data.object.refund.order_id == refund_order_id

    access = token(sb, client_secret=sb.config.square_client_secret, code=authorize(sb)["code"],
                   grant_type="authorization_code", redirect_uri=REDIRECT).json()["access_token"]
    [refund_order] = parsed(BatchGetOrdersResponse, api(sb, access, "POST", "/v2/orders/batch-retrieve",
                                                        json={"order_ids": [refund_order_id]})).orders
    [given_back] = refund_order.returns[0].return_line_items
    assert refund_order.returns[0].source_order_id == sale["order_id"] and given_back.quantity == "1"
    # The portal's mapper reads it as one negative line linked to the sold line.
    lines = mappers.map_order(refund_order.model_dump(exclude_none=True))
    assert [(line.quantity, line.refund_of_order_id, line.state) for line in lines] == [
        (-1, sale["order_id"], "refunded")]
