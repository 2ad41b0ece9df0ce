"""ShipBob REST API the portal syncs from, under ``/shipbob/<version>/`` (``https://api.shipbob.com/<version>``):

- ``GET channel``; ``GET fulfillment-center``
- ``GET product`` (``PageSize``, ``Cursor``); ``GET inventory-level/locations`` (``PageSize``, ``Cursor``,
  ``InventoryIds``, ``LocationId``): levels per fulfilment centre
- ``POST inventory/history:query`` (``facility_id`` required, ``start_date`` defaulting to and at most 90 days
  back, ``cursor`` = the last ``inventory_audit_event_id`` seen: events after it)
- ``GET order`` (``LastUpdateStartDate``, ``PageSize``, ``Cursor``), ``GET order/<id>``
- ``POST/GET webhook``, ``DELETE webhook/<id>``: subscriptions with topics, an https URL (loopback http accepted
  locally) and the subscriber's ``whsec_`` secret

Lists answer ``{"first", "items", "last", "next", "prev"}`` (the 2026 reference's envelope); ``next`` is a URL
with a ``Cursor`` parameter, null on the last page. Uncertain: the reference names the envelope for inventory
levels; the stand-in uses it for products and orders too.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import urlencode

from werkzeug.wrappers import Request

from ..data import rfc3339
from ..http import Route, decode_cursor, encode_cursor, json_response, read_json
from ..square.api import parse_time
from . import objects
from .common import (
    API_VERSIONS,
    ORDER_ID_BASE,
    authenticate,
    channel_id,
    fc_index,
    problem,
    with_remaining,
)

MAX_PAGE = 250
HISTORY_PAGE = 100
HISTORY_DAYS = 90
TOPICS = {"order.shipped", "order.delivered", "order.shipment.delivered", "order.shipment.exception",
          "order.shipment.on_hold", "order.shipment.cancelled", "order.shipment.tracking.updated",
          "return.created", "return.updated", "return.completed"}


def _call(app, request: Request, version: str, scope: str):
    if version not in API_VERSIONS:
        return None, None, problem(404, "Not Found", f"Unknown API version {version}.")
    token, denied = authenticate(app.state, request, scope)
    if denied:
        return None, None, denied
    return token, app.state.merchant("shipbob", token.account), None


def _page_size(request: Request) -> int | None:
    try:
        size = int(request.args.get("PageSize", "100"))
    except ValueError:
        return None
    return size if 1 <= size <= MAX_PAGE else None


def _envelope(request: Request, items: list, offset: int, total: int, size: int, extra: dict) -> dict:
    def link(at: int | None):
        if at is None:
            return None
        query = {k: v for k, v in request.args.items() if k != "Cursor"}
        query["Cursor"] = encode_cursor({"o": at, **extra})
        return f"{request.base_url}?{urlencode(query)}"

    nxt = offset + size if offset + size < total else None
    return {"first": link(0) if offset else None, "items": items, "last": None, "next": link(nxt),
            "prev": link(max(0, offset - size)) if offset else None}


def _offset(request: Request) -> tuple[int, dict] | None:
    raw = request.args.get("Cursor")
    if not raw:
        return 0, {}
    data = decode_cursor(raw)
    if data is None or not isinstance(data.get("o"), int):
        return None
    return data["o"], data


def channels(app, request: Request, version: str):
    token, m, denied = _call(app, request, version, "channels_read")
    if denied:
        return denied
    app_name = "SMA" if token.extra.get("pat") else "ShelfOps"
    return with_remaining(request, json_response([{
        "id": channel_id(token.account, token.client_id), "name": f"{app_name} channel of user {token.account}",
        "application_name": app_name, "scopes": token.scopes}]))


def fulfilment_centres(app, request: Request, version: str):
    token, m, denied = _call(app, request, version, "locations_read")
    if denied:
        return denied
    return with_remaining(request, json_response([objects.fc_json(i) for i in range(m.sizes.locations)]))


def products(app, request: Request, version: str):
    token, m, denied = _call(app, request, version, "products_read")
    if denied:
        return denied
    size, at = _page_size(request), _offset(request)
    if size is None or at is None:
        return problem(400, "Bad Request", "PageSize must be 1-250 and Cursor one this API returned.")
    total = m.sizes.products
    items = [objects.product_json(m, p) for p in range(at[0], min(total, at[0] + size))]
    return with_remaining(request, json_response(_envelope(request, items, at[0], total, size, {})))


def inventory_levels(app, request: Request, version: str):
    token, m, denied = _call(app, request, version, "inventory_read")
    if denied:
        return denied
    size, at = _page_size(request), _offset(request)
    if size is None or at is None:
        return problem(400, "Bad Request", "PageSize must be 1-250 and Cursor one this API returned.")
    locations = list(range(m.sizes.locations))
    if request.args.get("LocationId"):
        try:
            index = fc_index(int(request.args["LocationId"]), m.sizes.locations)
        except ValueError:
            index = None
        if index is None:
            return problem(400, "Bad Request", "Unknown LocationId.")
        locations = [index]
    ids = request.args.get("InventoryIds")
    if ids:
        try:
            variants = sorted({objects.variant_index(int(x)) for x in ids.split(",") if x.strip()})
        except ValueError:
            return problem(400, "Bad Request", "InventoryIds must be integers.")
        variants = [v for v in variants if 0 <= v < m.sizes.variants]
    else:
        variants = range(m.sizes.variants)
    chosen = variants[at[0]: at[0] + size]
    items = [objects.level_json(m, v, locations) for v in chosen]
    return with_remaining(request, json_response(_envelope(request, items, at[0], len(variants), size, {})))


def history_query(app, request: Request, version: str):
    token, m, denied = _call(app, request, version, "inventory_read")
    if denied:
        return denied
    body = read_json(request)
    if body is None:
        return problem(400, "Bad Request", "The body must be a JSON object.")
    facility = body.get("facility_id")
    if not isinstance(facility, int) or fc_index(facility, m.sizes.locations) is None:
        return problem(400, "Bad Request", "facility_id is required and must be one of your fulfillment centers.")
    now = app.state.now_dt()
    earliest = now - timedelta(days=HISTORY_DAYS)
    start = parse_time(body.get("start_date")) if body.get("start_date") else earliest
    if start is None or start < earliest:
        return problem(400, "Bad Request", f"start_date must be within the last {HISTORY_DAYS} days.")
    cursor = body.get("cursor") or request.args.get("cursor")
    try:
        after = int(cursor) if cursor is not None else 0
    except ValueError:
        return problem(400, "Bad Request", "cursor must be an inventory_audit_event_id.")
    events = app.state.shipbob_history.get(token.account, [])
    wanted = [e for e in events if e["increment"]["facility_id"] == facility and e["inventory_audit_event_id"] > after
              and parse_time(e["event_datetime"]) >= start]
    return with_remaining(request, json_response({"data": wanted[:HISTORY_PAGE]}))


def orders(app, request: Request, version: str):
    token, m, denied = _call(app, request, version, "orders_read")
    if denied:
        return denied
    size, at = _page_size(request), _offset(request)
    if size is None or at is None:
        return problem(400, "Bad Request", "PageSize must be 1-250 and Cursor one this API returned.")
    since = None
    if request.args.get("LastUpdateStartDate"):
        since = parse_time(request.args["LastUpdateStartDate"])
        if since is None:
            return problem(400, "Bad Request", "LastUpdateStartDate must be an ISO 8601 date-time.")
    # The first page pins where the list starts and ends, so a sale made while paging cannot shift the pages.
    first = at[1].get("s", m.first_order_updated_after(since - timedelta(microseconds=1)) if since else 0)
    stop = at[1].get("e", m.order_count)
    start = first + at[0]
    items = [objects.order_json(m, m.order(i)) for i in range(start, min(stop, start + size))]
    return with_remaining(request, json_response(_envelope(request, items, at[0], stop - first, size,
                                                           {"s": first, "e": stop})))


def order(app, request: Request, version: str, order_id: int):
    token, m, denied = _call(app, request, version, "orders_read")
    if denied:
        return denied
    index = order_id - ORDER_ID_BASE
    if not 0 <= index < m.order_count:
        return problem(404, "Not Found", "Order not found.")
    return with_remaining(request, json_response(objects.order_json(m, m.order(index))))


def webhooks(app, request: Request, version: str):
    scope = "webhooks_write" if request.method == "POST" else "webhooks_read"
    token, m, denied = _call(app, request, version, scope)
    if denied:
        return denied
    key = (token.account, token.client_id)
    subs = app.state.shipbob_subscriptions.setdefault(key, [])
    if request.method == "GET":
        return with_remaining(request, json_response(
            {"items": [{k: v for k, v in s.items() if k != "secret"} for s in subs], "next": None}))
    body = read_json(request)
    if body is None:
        return problem(400, "Bad Request", "The body must be a JSON object.")
    topics, url, secret = body.get("topics"), body.get("url"), body.get("secret")
    if not isinstance(topics, list) or not topics or set(topics) - TOPICS:
        return problem(400, "Bad Request", f"topics must be a non-empty list of {', '.join(sorted(TOPICS))}.")
    loopback = isinstance(url, str) and url.startswith(("http://127.0.0.1", "http://localhost"))
    if not isinstance(url, str) or not (url.startswith("https://") or loopback):
        return problem(400, "Bad Request", "url must use HTTPS.")
    if not _valid_secret(secret):
        return problem(400, "Bad Request", "secret must be whsec_ followed by base64 of 24-64 bytes.")
    with app.state.lock:
        app.state.shipbob_next_subscription += 1
        sub = {"id": str(app.state.shipbob_next_subscription), "topics": topics, "url": url,
               "description": body.get("description"), "created_at": rfc3339(app.state.now_dt()), "secret": secret}
        subs.append(sub)
    return with_remaining(request, json_response({k: v for k, v in sub.items() if k != "secret"}, 201))


def _valid_secret(secret) -> bool:
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        return False
    try:
        raw = base64.b64decode(secret[6:], validate=True)
    except ValueError:
        return False
    return 24 <= len(raw) <= 64


def delete_webhook(app, request: Request, version: str, subscription: str):
    token, m, denied = _call(app, request, version, "webhooks_write")
    if denied:
        return denied
    subs = app.state.shipbob_subscriptions.setdefault((token.account, token.client_id), [])
    kept = [s for s in subs if s["id"] != subscription]
    if len(kept) == len(subs):
        return problem(404, "Not Found", "Subscription not found.")
    subs[:] = kept
    return with_remaining(request, json_response(None, 204))


ROUTES = [
    Route("/shipbob/<version>/channel", channels, provider="shipbob"),
    Route("/shipbob/<version>/fulfillment-center", fulfilment_centres, provider="shipbob"),
    Route("/shipbob/<version>/product", products, provider="shipbob"),
    Route("/shipbob/<version>/inventory-level/locations", inventory_levels, provider="shipbob"),
    Route("/shipbob/<version>/inventory/history:query", history_query, ("POST",), provider="shipbob"),
    Route("/shipbob/<version>/order", orders, provider="shipbob"),
    Route("/shipbob/<version>/order/<int:order_id>", order, provider="shipbob"),
    Route("/shipbob/<version>/webhook", webhooks, ("GET", "POST"), provider="shipbob"),
    Route("/shipbob/<version>/webhook/<subscription>", delete_webhook, ("DELETE",), provider="shipbob"),
]
