"""Shopify GraphQL Admin API: ``POST /shopify/{shop}/admin/api/{version}/graphql.json``.

Connections page with Relay cursors (``first``/``last`` <= 250, ``after``), ``query:"updated_at:>'...'"`` filters on
variants, inventory items and orders, ``sortKey``/``reverse`` on orders. Every answer carries ``extensions.cost``;
a per-shop leaky bucket (plan from the faults, Standard 2000/100 by default) answers ``THROTTLED`` (HTTP 200) when
the requested cost exceeds what is available, and a query over 1000 points gets ``MAX_COST_EXCEEDED``.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime
from functools import lru_cache
from itertools import islice

from graphql import GraphQLError, parse, validate
from graphql.execution import execute
from werkzeug.wrappers import Request

from ..data import Merchant, rfc3339
from ..http import Route, json_response
from . import bulk
from .errors import shopify_errors
from .oauth import authenticate
from .objects import Nodes, gid, parse_gid
from .schema import MAX_PAGE, MAX_QUERY_COST, SCHEMA, query_cost

SUPPORTED_VERSIONS = ("2025-10", "2026-01", "2026-04", "2026-07", "2026-10", "unstable")
GID_KIND_RE = re.compile(r"^gid://shopify/(\w+)/")
TERM_RE = re.compile(r"(\w+):(<=|>=|<|>)?'?([^'\s]+)'?")


def resolve(parent, info, **args):
    value = parent.get(info.field_name) if isinstance(parent, dict) else getattr(parent, info.field_name, None)
    return value(**args) if callable(value) else value


def _cursor(index: int) -> str:
    return base64.b64encode(json.dumps({"last_id": index}).encode()).decode()


def _after(after: str | None) -> int | None:
    if not after:
        return None
    try:
        return int(json.loads(base64.b64decode(after))["last_id"])
    except (ValueError, KeyError, TypeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {after}") from None


def connection(stream, first=None, last=None, after=None, before=None, **_):
    """A Relay connection from ``stream(after_index)`` -> iterator of (index, node) in page order."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    size = first if first is not None else last
    if not 0 <= size <= MAX_PAGE:
        raise GraphQLError(f"The first/last argument must be between 0 and {MAX_PAGE}")
    rows = list(islice(stream(_after(after)), size + 1))
    page = rows[:size]
    return {"nodes": [n for _, n in page], "edges": [{"cursor": _cursor(i), "node": n} for i, n in page],
            "pageInfo": {"hasNextPage": len(rows) > size, "hasPreviousPage": after is not None,
                         "startCursor": _cursor(page[0][0]) if page else None,
                         "endCursor": _cursor(page[-1][0]) if page else None}}


def search_terms(query: str | None) -> dict[str, tuple[str, datetime]]:
    """``updated_at:>'2026-01-01T00:00:00Z' AND created_at:<=...`` -> {"updated_at>": datetime, ...}."""
    terms = {}
    for field, op, raw in TERM_RE.findall(query or ""):
        if field in ("updated_at", "created_at"):
            try:
                terms[field + (op or ">=")] = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise GraphQLError(f"Invalid date in search query: {raw}") from None
    return terms


def _time_ok(value: datetime, terms: dict, field: str) -> bool:
    checks = {">": value.__gt__, ">=": value.__ge__, "<": value.__lt__, "<=": value.__le__}
    return all(checks[op](t) for key, t in terms.items() for op in [key[len(field):]] if key.startswith(field))


class ShopResolvers:
    def __init__(self, app, shop: str, m: Merchant, version: str = SUPPORTED_VERSIONS[-2], request=None):
        self.app, self.shop, self.m = app, shop, m
        self.version, self.request = version, request  # the API version served; the HTTP request (bulk URLs)
        self.nodes = Nodes(m, self.levels)

    def root(self) -> dict:
        return {
            "shop": {"id": "gid://shopify/Shop/1", "name": self.shop.split(".")[0], "myshopifyDomain": self.shop,
                     "currencyCode": self.m.currency,
                     "plan": {"displayName": self.app.state.faults["shopify"].plan or "standard",
                              "partnerDevelopment": False, "shopifyPlus": False}},
            "locations": lambda **a: connection(self._locations, **a),
            "location": lambda id, **_: self._one(id, "Location", self.m.sizes.locations, self.nodes.location),
            "productVariants": lambda **a: connection(lambda after: self._variants(after, a.get("query")), **a),
            "productVariant": lambda id, **_: self._one(id, "ProductVariant", self.m.sizes.variants,
                                                        lambda i: self.nodes.variant(self.m.variant(i))),
            "inventoryItems": lambda **a: connection(
                lambda after: ((i, self.nodes.inventory_item(self.m.variant(i))) for i, _ in
                               self._variants(after, a.get("query"))), **a),
            "inventoryItem": lambda id, **_: self._one(id, "InventoryItem", self.m.sizes.variants,
                                                       lambda i: self.nodes.inventory_item(self.m.variant(i))),
            "orders": lambda **a: connection(lambda after: self._orders(after, a), **a),
            "order": lambda id, **_: self._one(id, "Order", self.m.order_count,
                                               lambda i: self.nodes.order(self.m.order(i), self.line_items)),
            "refund": self.refund,
            "webhookSubscriptions": lambda **a: connection(lambda after: self._subscriptions(after, a), **a),
            "webhookSubscriptionCreate": self.subscription_create,
            "webhookSubscriptionDelete": self.subscription_delete,
            "node": self.node,
            "bulkOperation": lambda id, **_: self._bulk(id),
            "currentBulkOperation": lambda **a: bulk.current(self.app.state, self.shop, **a),
            "bulkOperationRunQuery": lambda **a: bulk.run_query(self.app, self, self.version, self.request, **a),
            "bulkOperationCancel": lambda **a: bulk.cancel(self.app, self, **a),
            "appUninstall": self.app_uninstall,
        }

    def _bulk(self, value: str):
        op = bulk.find(self.app.state, self.shop, value)
        return bulk.describe(self.app.state, op) if op is not None else None

    def node(self, id, **_):
        """``node(id:)`` for the object kinds this stand-in serves (``__typename`` picks the Node type)."""
        kind = (GID_KIND_RE.match(id or "") or [None, None])[1]
        if kind == "BulkOperation":
            return self._bulk(id)
        one = {"Location": "location", "ProductVariant": "productVariant", "InventoryItem": "inventoryItem",
               "Order": "order", "Refund": "refund"}.get(kind)
        value = self.root()[one](id) if one else None
        return {**value, "__typename": kind} if value is not None else None

    @staticmethod
    def _one(value: str, kind: str, count: int, build):
        index = parse_gid(value, kind)
        return build(index) if index is not None and index < count else None

    def _locations(self, after):
        start = 0 if after is None else after + 1
        return ((i, self.nodes.location(i)) for i in range(start, self.m.sizes.locations))

    def _variants(self, after, query):
        terms = search_terms(query)
        floor = terms.get("updated_at>") or terms.get("updated_at>=")
        start = 0 if after is None else after + 1
        for v in self.m.iter_variants(start, updated_after=floor):
            if _time_ok(v.updated_at, terms, "updated_at"):
                yield v.index, self.nodes.variant(v)

    def levels(self, variant=None, location=None, query=None, **args):
        """``inventoryLevels`` of an item (every location) or of a location (every item, in item order); the
        ``query`` argument filters on ``updated_at`` (and ``created_at``, the same instant here)."""
        m = self.m
        terms = search_terms(query)

        def wanted(s):
            return _time_ok(s.updated_at, terms, "updated_at") and _time_ok(s.updated_at, terms, "created_at")

        if variant is not None:  # one item at every location
            rows = lambda after: ((loc, m.stock(variant, loc))  # noqa: E731
                                  for loc in range(0 if after is None else after + 1, m.sizes.locations))
        else:
            rows = lambda after: ((v, m.stock(v, location))  # noqa: E731
                                  for v in range(0 if after is None else after + 1, m.sizes.variants))
        return connection(lambda after: ((i, self.nodes.level(s)) for i, s in rows(after) if wanted(s)), **args)

    def _orders(self, after, args):
        terms = search_terms(args.get("query"))
        reverse = bool(args.get("reverse"))
        # Base orders: updated_at, created_at and id all grow with the index, so every sort key is index order.
        # Orders changed at run time (new, cancelled) follow, by updated_at; positions (cursors) count both parts.
        m = self.m
        base, tail = m.sizes.orders, m.updated_tail()
        floor = terms.get("updated_at>") or terms.get("updated_at>=")
        low = min(max(m.first_order_updated_after(floor) - 1, 0), base) if floor else 0
        total = base + len(tail)
        positions = (range(total - 1 if after is None else after - 1, low - 1, -1) if reverse
                     else range(low if after is None else after + 1, total))
        for i in positions:
            if i < base and i in m.overlay.cancelled:
                continue  # listed at its new place in the tail
            o = m.order(i if i < base else tail[i - base])
            if _time_ok(o.updated_at, terms, "updated_at") and _time_ok(o.created_at, terms, "created_at"):
                yield i, self.nodes.order(o, self.line_items)

    def line_items(self, o, rows=None, **args):
        """An order's line items, or (``rows``) another connection of the order (a refund's lines)."""
        return connection(rows or (lambda after: ((k, self.nodes.line_item(o, k))
                                                  for k in range(0 if after is None else after + 1, len(o.lines)))),
                          **args)

    def refund(self, id, **_):
        index = parse_gid(id, "Refund")
        for refunds in self.m.overlay.refunds.values() if index is not None else ():
            for r in refunds:
                if r.index == index:
                    return self.nodes.refund(self.m.order(r.order_index), r, self.line_items)
        return None

    # --- the app uninstalling itself (the only way Shopify offers an app to give up its access) -------------
    def app_uninstall(self, **_):
        state = self.app.state
        state.counters.count_event("shopify:app_uninstall")
        client_id = state.config.shopify_client_id
        state.revoke(lambda t: t.provider == "shopify" and t.account == self.shop and t.client_id == client_id)
        with state.lock:
            state.shopify_subscriptions.pop(self.shop, None)
        return {"app": {"id": "gid://shopify/App/1", "title": "ShelfOps", "apiKey": client_id, "handle": "shelfops"},
                "userErrors": []}

    # --- webhook subscriptions -------------------------------------------------------------------------------
    def _subscriptions(self, after, args):
        subs = self.app.state.shopify_subscriptions.get(self.shop, [])
        topics = args.get("topics")
        for i, sub in enumerate(subs):
            if (after is None or i > after) and (not topics or sub["topic"] in topics):
                yield i, sub

    def subscription_create(self, topic, webhookSubscription, **_):
        uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl") or ""
        if not uri.startswith(("https://", "http://")):
            return {"webhookSubscription": None, "userErrors": [{"field": ["webhookSubscription", "callbackUrl"],
                                                                 "message": "Address is invalid"}]}
        subs = self.app.state.shopify_subscriptions[self.shop]
        if any(s["topic"] == topic and s["uri"] == uri for s in subs):
            return {"webhookSubscription": None, "userErrors": [{"field": ["webhookSubscription", "callbackUrl"],
                                                                 "message": "Address for this topic has already "
                                                                            "been taken"}]}
        now = rfc3339(self.app.state.now_dt())
        name = topic.lower()
        sub = {"id": f"gid://shopify/WebhookSubscription/{uuid.uuid4().int % 10**12}", "topic": topic,
               "topic_name": name[: name.rfind("_")] + "/" + name[name.rfind("_") + 1:], "uri": uri,
               "callbackUrl": uri, "format": webhookSubscription.get("format") or "JSON", "createdAt": now,
               "updatedAt": now}
        subs.append(sub)
        return {"webhookSubscription": sub, "userErrors": []}

    def subscription_delete(self, id, **_):
        subs = self.app.state.shopify_subscriptions[self.shop]
        for sub in list(subs):
            if sub["id"] == id:
                subs.remove(sub)
                return {"deletedWebhookSubscriptionId": id, "userErrors": []}
        missing = {"field": ["id"], "message": "Webhook subscription does not exist"}
        return {"deletedWebhookSubscriptionId": None, "userErrors": [missing]}


@lru_cache(maxsize=512)
def checked(query: str):
    """(document, Shopify-shaped errors or None) for a query text. Clients send the same few documents over and
    over, and validating against the whole published schema costs ~20 ms, so each text is parsed and validated
    once (graphql-core never changes a document while executing it)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [exc.formatted]
    problems = validate(SCHEMA, document)
    return document, (shopify_errors(SCHEMA, document, problems) if problems else None)


def _bucket(state, shop: str) -> dict:
    """Refill the shop's cost bucket for the time passed and return it (caller holds state.lock)."""
    maximum, restore = state.faults["shopify"].shopify_bucket()
    now = state.now()
    bucket = state.shopify_buckets.setdefault(shop, {"available": maximum, "at": now})
    bucket["available"] = min(maximum, bucket["available"] + (now - bucket["at"]) * restore)
    bucket["at"] = now
    bucket["maximum"], bucket["restore"] = maximum, restore
    return bucket


def _cost_block(requested, actual, bucket) -> dict:
    return {"requestedQueryCost": requested, "actualQueryCost": actual,
            "throttleStatus": {"maximumAvailable": bucket["maximum"], "currentlyAvailable": int(bucket["available"]),
                               "restoreRate": bucket["restore"]}}


def graphql_endpoint(app, request: Request, shop: str, version: str):
    state = app.state
    shop = shop.lower()
    token, denied = authenticate(state, request, shop)
    if denied:
        return denied
    served = version if version in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[0]  # unsupported falls forward
    headers = {"X-Shopify-API-Version": served, "X-Request-Id": str(uuid.uuid4())}
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return json_response({"errors": {"query": "Required parameter missing or invalid"}}, 400, headers)
    variables = body.get("variables") or {}
    document, refused = checked(body["query"])
    if refused:
        return json_response({"errors": refused}, 200, headers)
    requested = query_cost(document, variables)
    with state.lock:
        bucket = _bucket(state, shop)
        if requested > MAX_QUERY_COST:
            return json_response({"errors": [{
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                           f"({MAX_QUERY_COST}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}}],
                "extensions": {"cost": _cost_block(requested, None, bucket)}}, 200, headers)
        if requested > bucket["available"]:
            return json_response({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/limits#rate-limits"}}],
                "extensions": {"cost": _cost_block(requested, None, bucket)}}, 200, headers)
        bucket["available"] -= requested  # charged up front, refunded down to the actual cost below
    resolvers = ShopResolvers(app, shop, state.merchant("shopify", shop), served, request)
    result = execute(SCHEMA, document, root_value=resolvers.root(), variable_values=variables,
                     operation_name=body.get("operationName"), field_resolver=resolve)
    actual = query_cost(document, variables, result.data or {}) if result.data else 0
    with state.lock:
        bucket = _bucket(state, shop)
        bucket["available"] = min(bucket["maximum"], bucket["available"] + max(0, requested - actual))
        answer = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        answer["extensions"] = {"cost": _cost_block(requested, actual, bucket)}
    return json_response(answer, 200, headers)


ROUTES = [
    Route("/shopify/<shop>/admin/api/<version>/graphql.json", graphql_endpoint, ("POST",), provider="shopify"),
    *bulk.ROUTES,
]

__all__ = ["ROUTES", "gid", "graphql_endpoint"]
