"""Square REST API the portal syncs from (provider-facts 1.4):

- ``GET /v2/locations``
- ``GET /v2/catalog/list?types=ITEM,ITEM_VARIATION&cursor=`` (fixed pages of 100; default types exclude
  ITEM_VARIATION), ``POST /v2/catalog/search`` (``object_types``, ``begin_time`` exclusive, advisory ``limit``)
- ``POST /v2/inventory/counts/batch-retrieve`` (``updated_after`` against ``calculated_at``, newest first, cursor)
- ``POST /v2/orders/search`` (``location_ids`` max 10, ``limit`` <= 1000, one ``date_time_filter`` whose field
  must equal ``sort.sort_field``, missing ``end_at`` pinned at the first request, cursor must come with the same
  query), ``POST /v2/orders/batch-retrieve`` (max 100 ids, unknown ids skipped), ``GET /v2/orders/{id}``
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime

from werkzeug.wrappers import Request

from ..data import Merchant
from ..http import Route, decode_cursor, encode_cursor, json_response, read_json
from .common import authenticate, bad_request, errors
from .objects import SERVED_STATES, SquareIds, counts_json, item_json, location_json, order_json, variation_json

CATALOG_PAGE = 100
DEFAULT_TYPES = {"ITEM", "CATEGORY", "TAX", "DISCOUNT", "MODIFIER_LIST", "IMAGE"}  # top-level types only
TIME_FIELDS = {"created_at": "CREATED_AT", "updated_at": "UPDATED_AT", "closed_at": "CLOSED_AT"}


def parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _merchant(app, token) -> Merchant:
    return app.state.merchant("square", token.account)



def _json_call(app, request: Request, scope: str):
    """The preamble of the JSON POST endpoints: a token with the scope, a JSON object body, the token's merchant.
    Returns (merchant, body, None), or (None, None, the error answer)."""
    token, denied = authenticate(app.state, request, scope)
    if denied:
        return None, None, denied
    body = read_json(request)
    if body is None:
        return None, None, bad_request("The body must be a JSON object.", code="INVALID_CONTENT_TYPE")
    return _merchant(app, token), body, None

def locations(app, request: Request):
    token, denied = authenticate(app.state, request, "MERCHANT_PROFILE_READ")
    if denied:
        return denied
    m = _merchant(app, token)
    return json_response({"locations": [location_json(m, i, token.account) for i in range(m.sizes.locations)]})


def catalog_list(app, request: Request):
    token, denied = authenticate(app.state, request, "ITEMS_READ")
    if denied:
        return denied
    m = _merchant(app, token)
    types = {t.strip().upper() for t in request.args.get("types", "").split(",") if t.strip()} or DEFAULT_TYPES
    want_item, want_var = "ITEM" in types, "ITEM_VARIATION" in types
    per_product = int(want_item) + (m.sizes.variants_per_product if want_var else 0)
    total = m.sizes.products * per_product
    offset = 0
    if request.args.get("cursor"):
        cursor = decode_cursor(request.args["cursor"])
        if cursor is None or not isinstance(cursor.get("offset"), int):
            return bad_request("Invalid cursor.", "cursor", code="INVALID_CURSOR")
        offset = cursor["offset"]
    objects = []
    for position in range(offset, min(offset + CATALOG_PAGE, total)):
        product, k = divmod(position, per_product)
        if want_item and k == 0:
            objects.append(item_json(m, product))
        else:
            objects.append(variation_json(m, m.variant(product * m.sizes.variants_per_product + k - want_item)))
    answer = {"objects": objects}
    if offset + CATALOG_PAGE < total:
        answer["cursor"] = encode_cursor({"offset": offset + CATALOG_PAGE})
    return json_response(answer)


def catalog_search(app, request: Request):
    m, body, refused = _json_call(app, request, "ITEMS_READ")
    if refused:
        return refused
    types = set(body.get("object_types") or []) or {"ITEM"}
    if body.get("query") and set(body["query"]) - {"exact_query"}:
        return bad_request("The sandbox supports only query.exact_query on sku.", "query")
    begin = None
    if body.get("begin_time") is not None:
        begin = parse_time(body["begin_time"])
        if begin is None:
            return bad_request("begin_time must be an RFC 3339 timestamp.", "begin_time")
    limit = body.get("limit", CATALOG_PAGE)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        return bad_request("limit must be between 1 and 1000.", "limit")
    start = 0
    if body.get("cursor"):
        cursor = decode_cursor(body["cursor"])
        if cursor is None or not isinstance(cursor.get("v"), int):
            return bad_request("Invalid cursor.", "cursor", code="INVALID_CURSOR")
        start = cursor["v"]
    exact = (body.get("query") or {}).get("exact_query")
    objects, last_product, next_start = [], None, None
    # Pages end on product boundaries (limit is advisory in Square), so the cursor is the next variant index.
    for v in m.iter_variants(start, updated_after=begin):
        if exact and (exact.get("attribute_name") != "sku" or v.sku != exact.get("attribute_value")):
            continue
        if v.product_index != last_product and len(objects) >= limit:
            next_start = v.index
            break
        if "ITEM" in types and v.product_index != last_product:
            objects.append(item_json(m, v.product_index))
        if "ITEM_VARIATION" in types:
            objects.append(variation_json(m, v))
        last_product = v.product_index
    answer = {"objects": objects, "latest_time": app.state.now_dt().isoformat().replace("+00:00", "Z")}
    if next_start is not None:
        answer["cursor"] = encode_cursor({"v": next_start})
    return json_response(answer)


def inventory_counts(app, request: Request):
    m, body, refused = _json_call(app, request, "INVENTORY_READ")
    if refused:
        return refused
    ids = SquareIds(m)
    limit = body.get("limit", 100)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        return bad_request("limit must be between 1 and 1000.", "limit")
    after = None
    if body.get("updated_after") is not None:
        after = parse_time(body["updated_after"])
        if after is None:
            return bad_request("updated_after must be an RFC 3339 timestamp.", "updated_after")
    states = tuple(body.get("states") or SERVED_STATES)
    if not set(states) & set(SERVED_STATES):
        return json_response({"counts": []})
    # ``limit`` counts InventoryCounts; a stock row gives up to one per served state.
    limit = max(1, limit // len(SERVED_STATES))
    loc_filter = None
    if body.get("location_ids"):
        loc_filter = {ids.location_index(x) for x in body["location_ids"]}
        loc_filter.discard(None)
    cursor = {"o": 0, "r": None}
    if body.get("cursor"):
        cursor = decode_cursor(body["cursor"])
        if cursor is None or "o" not in cursor:
            return bad_request("Invalid cursor.", "cursor", code="INVALID_CURSOR")

    def wanted(s):
        return (loc_filter is None or s.location_index in loc_filter) and (after is None or s.updated_at > after)

    counts = []
    if body.get("catalog_object_ids"):
        variants = [ids.variation_index(x) for x in body["catalog_object_ids"]]
        rows = [m.stock(v, loc) for v in variants if v is not None for loc in range(m.sizes.locations)]
        rows = sorted((s for s in rows if wanted(s)), key=lambda s: s.updated_at, reverse=True)
        page = rows[cursor["o"]:cursor["o"] + limit]
        more = cursor["o"] + limit < len(rows)
        return json_response({"counts": [c for s in page for c in counts_json(m, s, states)],
                              **({"cursor": encode_cursor({"o": cursor["o"] + limit})} if more else {})})
    # Newest first: changed rows (the overlay, always newest) then base rows from the top row down.
    changed = sorted((s for s in m.overlay.stock.values() if wanted(s)), key=lambda s: s.updated_at, reverse=True)
    rows = changed[cursor["o"]:cursor["o"] + limit]
    o_next = cursor["o"] + len(rows)
    row = m.stock_rows - 1 if cursor.get("r") is None else cursor["r"]
    floor = m.first_stock_row_updated_after(after)
    while len(rows) < limit and row >= floor:
        key = divmod(row, m.sizes.locations)
        if key not in m.overlay.stock:
            s = m.stock_row(row)
            if wanted(s):
                rows.append(s)
        row -= 1
    counts = [c for s in rows for c in counts_json(m, s, states)]
    answer = {"counts": counts}
    if o_next < len(changed) or row >= floor:
        answer["cursor"] = encode_cursor({"o": o_next, "r": row})
    return json_response(answer)


def orders_search(app, request: Request):
    m, body, refused = _json_call(app, request, "ORDERS_READ")
    if refused:
        return refused
    ids = SquareIds(m)
    location_ids = body.get("location_ids") or []
    if not location_ids:
        return bad_request("At least one location ID is required.", "location_ids", code="MISSING_REQUIRED_PARAMETER")
    if len(location_ids) > 10:
        return bad_request("Search can only be performed on up to 10 locations at a time.", "location_ids")
    locations = {ids.location_index(x) for x in location_ids}
    if None in locations:
        return errors(400, "INVALID_REQUEST_ERROR", "NOT_FOUND", "One or more location_ids were not found.",
                      "location_ids")
    limit = body.get("limit", 500)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        return bad_request("limit must be between 1 and 1000.", "limit")
    query = body.get("query") or {}
    filters, sort = query.get("filter") or {}, query.get("sort") or {}
    sort_field = sort.get("sort_field", "CREATED_AT")
    descending = sort.get("sort_order", "DESC") == "DESC"
    time_filter = filters.get("date_time_filter") or {}
    if len(time_filter) > 1:
        return bad_request("Only one date_time_filter field may be set.", "query.filter.date_time_filter")
    states = set((filters.get("state_filter") or {}).get("states") or [])
    cursor = decode_cursor(body["cursor"]) if body.get("cursor") else {}
    if cursor is None:
        return bad_request("Invalid cursor.", "cursor", code="INVALID_CURSOR")
    lo, hi = 0, m.order_count
    field = None
    if time_filter:
        field = next(iter(time_filter))
        if field not in TIME_FIELDS:
            return bad_request(f"Unknown date_time_filter field {field}.", "query.filter.date_time_filter")
        if TIME_FIELDS[field] != sort_field:
            return bad_request(f"When filtering by {field}, sort_field must be {TIME_FIELDS[field]}.",
                               "query.sort.sort_field", code="INVALID_SORT_ORDER")
        window = time_filter[field] or {}
        start, end = parse_time(window.get("start_at")), parse_time(window.get("end_at"))
        # A missing end_at means "the time of the first cursor request": pinned in the cursor.
        end = end or parse_time(cursor.get("end")) or app.state.now_dt()
        key = _order_time(m, field)
        count = m.order_count
        lo = bisect_left(range(count), start, key=key) if start else 0
        hi = bisect_right(range(count), end, key=key)
    position = cursor.get("p", hi - 1 if descending else lo)
    orders, step = [], -1 if descending else 1
    while len(orders) < limit and lo <= position < hi:
        order = m.order(position)
        if order.location_index in locations and (not states or order.state in states):
            orders.append(order)
        position += step
    answer: dict = {}
    if body.get("return_entries"):
        answer["order_entries"] = [{"order_id": ids.order(o.index), "version": 1,
                                    "location_id": ids.location(o.location_index)} for o in orders]
    else:
        answer["orders"] = [order_json(m, o) for o in orders]
    if lo <= position < hi:
        pinned = {"end": end.isoformat()} if field else {}
        answer["cursor"] = encode_cursor({"p": position, **pinned})
    return json_response(answer)


def _order_time(m: Merchant, field: str):
    def key(index: int):
        order = m.order(index)
        return order.created_at if field == "created_at" else order.updated_at  # closed_at == updated_at here

    return key


def orders_batch(app, request: Request):
    m, body, refused = _json_call(app, request, "ORDERS_READ")
    if refused:
        return refused
    order_ids = body.get("order_ids")
    if not isinstance(order_ids, list) or not order_ids:
        return bad_request("order_ids is required.", "order_ids", code="MISSING_REQUIRED_PARAMETER")
    if len(order_ids) > 100:
        return bad_request("At most 100 order_ids can be retrieved at once.", "order_ids")
    ids = SquareIds(m)
    found = [ids.order_index(x) for x in order_ids]
    return json_response({"orders": [order_json(m, m.order(i)) for i in found if i is not None]})


def order_get(app, request: Request, order_id: str):
    token, denied = authenticate(app.state, request, "ORDERS_READ")
    if denied:
        return denied
    m = _merchant(app, token)
    index = SquareIds(m).order_index(order_id)
    if index is None:
        return errors(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", f"Order {order_id} not found.")
    return json_response({"order": order_json(m, m.order(index))})


ROUTES = [
    Route("/square/v2/locations", locations, provider="square"),
    Route("/square/v2/catalog/list", catalog_list, provider="square"),
    Route("/square/v2/catalog/search", catalog_search, ("POST",), provider="square"),
    Route("/square/v2/inventory/counts/batch-retrieve", inventory_counts, ("POST",), provider="square"),
    Route("/square/v2/orders/search", orders_search, ("POST",), provider="square"),
    Route("/square/v2/orders/batch-retrieve", orders_batch, ("POST",), provider="square"),
    Route("/square/v2/orders/<order_id>", order_get, provider="square"),
]
