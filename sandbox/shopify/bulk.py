"""Shopify bulk operations (provider-facts 2.4): ``bulkOperationRunQuery``, polling, the JSONL result.

- ``bulkOperationRunQuery(query:)`` validates the inner query against the schema and Shopify's bulk rules (a
  query, at least one connection, at most 5, nesting depth at most 2, a nested connection's parent selects
  ``id``) and answers ``userErrors`` otherwise. At most 1 running bulk query per shop before API 2026-01, 5 from it.
- A background job takes the operation CREATED -> RUNNING (objectCount grows as it walks the data) -> COMPLETED
  (or FAILED with ``errorCode`` and a ``partialDataUrl``, or CANCELED); ``Faults.bulk_seconds`` makes it take at
  least that long on the sandbox clock, ``Faults.bulk_error_code`` makes it fail. On completion the
  ``bulk_operations/finish`` webhook goes to the shop's subscriptions for that topic (none: nothing is sent).
- ``url`` is a signed, expiring (7 days) URL on the sandbox host, like Shopify's storage URLs: no access token,
  the signature in the query string. The file is generated again, line by line, from the lazy merchant data on
  each download (never held in memory), capped at the root objects the operation counted, so rows created after
  it finished are not in it. Rows edited after it finished show their new values (a real result is a file
  written while the operation ran; it is not a point-in-time snapshot either).
- JSONL: one line per object, ``edges``/``node`` wrappers removed, nested connection nodes on their own lines
  after their parent with ``__parentId`` (``groupObjects`` is accepted and has no effect).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from graphql import GraphQLError, parse, validate
from graphql.language import DocumentNode, FieldNode, OperationDefinitionNode
from graphql.type import get_named_type
from graphql.utilities import value_from_ast_untyped
from werkzeug.wrappers import Request, Response

from ..data import rfc3339
from ..http import Route
from .schema import MAX_PAGE, SCHEMA, _fields

log = logging.getLogger("sandbox.shopify.bulk")

URL_LIFETIME = 7 * 86400
MAX_CONNECTIONS = 5
MAX_DEPTH = 2
CONCURRENT_FROM_2026_01 = 5
ACTIVE = ("CREATED", "RUNNING", "CANCELING")
PAGING_ARGS = ("first", "last", "after", "before")
_numbers = itertools.count(4_000_000_001)
_numbers_lock = threading.Lock()


@dataclass
class BulkOperation:
    number: int
    shop: str
    query: str
    document: DocumentNode
    created_at: float
    base_url: str  # the sandbox host as the caller reached it: result URLs point there
    status: str = "CREATED"
    completed_at: float | None = None
    object_count: int = 0
    root_count: int = 0
    file_size: int = 0
    error_code: str | None = None
    partial_roots: int = 0
    cancel_requested: bool = False

    @property
    def gid(self) -> str:
        return f"gid://shopify/BulkOperation/{self.number}"


def user_error(message: str, code: str = "INVALID", field=("query",)) -> dict:
    return {"field": list(field) if field else None, "message": message, "code": code}


# --- validation ----------------------------------------------------------------------------------------------
def _fragments(document) -> dict:
    return {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}


def _connection_node_selection(field: FieldNode, conn_type, fragments):
    """The selection set applied to each node of a connection field (``nodes {..}`` or ``edges { node {..} }``)."""
    for sub, _on in _fields(field.selection_set, fragments, conn_type):
        if sub.name.value == "nodes":
            return sub.selection_set
        if sub.name.value == "edges":
            for edge_field, _ in _fields(sub.selection_set, fragments, get_named_type(conn_type.fields["edges"].type)):
                if edge_field.name.value == "node":
                    return edge_field.selection_set
    return None


def _check_shape(selection_set, parent_type, fragments, depth: int, found: list[int]) -> str | None:
    """Counts connections in ``found[0]``; returns the first bulk rule broken, or None."""
    ids_selected = any(f.name.value == "id" for f, _ in _fields(selection_set, fragments, parent_type))
    for field, on in _fields(selection_set, fragments, parent_type):
        if not field.selection_set or not hasattr(on, "fields") or field.name.value not in on.fields:
            continue
        named = get_named_type(on.fields[field.name.value].type)
        if named.name.endswith("Connection"):
            found[0] += 1
            if depth + 1 > MAX_DEPTH:
                return f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_DEPTH}."
            if depth >= 1 and not ids_selected:
                return (f"The parent 'node' field for a nested connection must select the 'id' field. "
                        f"Connection fields without 'id': {field.name.value}.")
            node_type = get_named_type(named.fields["nodes"].type)
            inner = _connection_node_selection(field, named, fragments)
            problem = inner and _check_shape(inner, node_type, fragments, depth + 1, found)
        else:
            problem = _check_shape(field.selection_set, named, fragments, depth, found)
        if problem:
            return problem
    return None


def check_query(text: str) -> tuple[DocumentNode | None, list[dict]]:
    try:
        document = parse(text)
    except GraphQLError as exc:
        return None, [user_error(f"Invalid bulk query: {exc.message}")]
    problems = validate(SCHEMA, document)
    if problems:
        return None, [user_error(f"Invalid bulk query: {p.message}") for p in problems]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation.value != "query":
        return None, [user_error("Bulk queries must contain exactly one query operation (no mutations).")]
    if operations[0].variable_definitions:
        return None, [user_error("Bulk queries cannot use variables.")]
    found = [0]
    problem = _check_shape(operations[0].selection_set, SCHEMA.query_type, _fragments(document), 0, found)
    if problem is None and found[0] == 0:
        problem = "Bulk queries must contain at least one connection."
    if problem is None and found[0] > MAX_CONNECTIONS:
        problem = f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
    return (None, [user_error(problem)]) if problem else (document, [])


# --- generating the JSONL, lazily ------------------------------------------------------------------------------
def _args(field: FieldNode) -> dict:
    return {a.name.value: value_from_ast_untyped(a.value, {}) for a in field.arguments or ()
            if a.name.value not in PAGING_ARGS}


def _all_nodes(resolver, args: dict) -> Iterator:
    """Every node of a Relay connection resolver, a page (<= 250 nodes) at a time."""
    after = None
    while True:
        page = resolver(**args, first=MAX_PAGE, after=after)
        yield from page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


def _project(value: dict, selection_set, type_, fragments, nested: list) -> dict:
    """The selected fields of one object; nested connections are appended to ``nested`` for their own lines."""
    out = {}
    for field, on in _fields(selection_set, fragments, type_):
        name, key = field.name.value, (field.alias.value if field.alias else field.name.value)
        if name == "__typename":
            out[key] = type_.name
            continue
        if on.name != type_.name and on.name not in _interfaces(type_):
            continue  # a fragment on another type (``... on Order`` inside ``node``)
        if not hasattr(on, "fields") or name not in on.fields:
            continue
        named = get_named_type(on.fields[name].type)
        raw = value.get(name) if isinstance(value, dict) else None
        if named.name.endswith("Connection"):
            nested.append((field, named, raw))
            continue
        if callable(raw):
            raw = raw(**_args(field))
        if raw is None or field.selection_set is None:
            out[key] = raw
        elif isinstance(raw, list):
            out[key] = [_project(v, field.selection_set, named, fragments, nested) for v in raw]
        else:
            out[key] = _project(raw, field.selection_set, named, fragments, nested)
    return out


def _interfaces(type_) -> set[str]:
    return {i.name for i in getattr(type_, "interfaces", ())}


def _rows(value: dict, selection_set, type_, fragments, parent_id: str | None) -> Iterator[dict]:
    nested: list = []
    row = _project(value, selection_set, type_, fragments, nested)
    if parent_id is not None:
        row["__parentId"] = parent_id
    yield row
    for field, conn_type, resolver in nested:
        node_type = get_named_type(conn_type.fields["nodes"].type)
        inner = _connection_node_selection(field, conn_type, fragments)
        for node in _all_nodes(resolver, _args(field)):
            yield from _rows(node, inner, node_type, fragments, value.get("id"))


def iter_lines(resolvers, op: BulkOperation, max_roots: int | None = None) -> Iterator[tuple[bool, bytes]]:
    """(is a root object, JSONL line) for the operation's query, generated from the merchant data as it goes."""
    fragments = _fragments(op.document)
    operation = next(d for d in op.document.definitions if isinstance(d, OperationDefinitionNode))
    root = resolvers.root()
    roots = 0
    for field, _on in _fields(operation.selection_set, fragments, SCHEMA.query_type):
        named = get_named_type(SCHEMA.query_type.fields[field.name.value].type)
        resolver = root.get(field.name.value)
        if named.name.endswith("Connection"):
            node_type = get_named_type(named.fields["nodes"].type)
            values = _all_nodes(resolver, _args(field))
            selection = _connection_node_selection(field, named, fragments)
        else:
            one = resolver(**_args(field)) if callable(resolver) else resolver
            values, node_type, selection = ([one] if one is not None else []), named, field.selection_set
        for value in values:
            if max_roots is not None and roots >= max_roots:
                return
            roots += 1
            for row in _rows(value, selection, node_type, fragments, None):
                yield "__parentId" not in row, json.dumps(row, separators=(",", ":")).encode() + b"\n"


# --- operations --------------------------------------------------------------------------------------------
def concurrency_limit(version: str) -> int:
    return CONCURRENT_FROM_2026_01 if version == "unstable" or version >= "2026-01" else 1


def run_query(app, resolvers, version: str, request: Request, query: str, **_) -> dict:
    document, errors = check_query(query)
    if errors:
        return {"bulkOperation": None, "userErrors": errors}
    state, shop = app.state, resolvers.shop
    with state.lock:
        active = [op for op in state.shopify_bulk_ops.values() if op.shop == shop and op.status in ACTIVE]
        limit = concurrency_limit(version)
        if len(active) >= limit:
            message = (f"A bulk query operation for this app and shop is already in progress: {active[-1].gid}."
                       if limit == 1 else f"Limit of {limit} concurrent bulk query operations reached for this "
                                          "app and shop: an operation is already in progress.")
            return {"bulkOperation": None, "userErrors": [user_error(message, "OPERATION_IN_PROGRESS", None)]}
        with _numbers_lock:
            number = next(_numbers)
        op = BulkOperation(number, shop, query, document, state.now(), request.host_url.rstrip("/"))
        state.shopify_bulk_ops[number] = op
        answer = describe(state, op)
    threading.Thread(target=_run, args=(app, resolvers, op), name=f"sandbox-bulk-{number}", daemon=True).start()
    return {"bulkOperation": answer, "userErrors": []}


def cancel(app, resolvers, id, **_) -> dict:
    op = find(app.state, resolvers.shop, id)
    if op is None:
        return {"bulkOperation": None, "userErrors": [user_error("Bulk operation does not exist", "INVALID",
                                                                 ("id",))]}
    with app.state.lock:
        if op.status not in ACTIVE:
            return {"bulkOperation": describe(app.state, op), "userErrors": [user_error(
                f"A bulk operation cannot be canceled when it is {op.status.lower()}", "INVALID", ("id",))]}
        op.cancel_requested, op.status = True, "CANCELING"
        return {"bulkOperation": describe(app.state, op), "userErrors": []}


def find(state, shop: str, gid: str) -> BulkOperation | None:
    prefix = "gid://shopify/BulkOperation/"
    if not isinstance(gid, str) or not gid.startswith(prefix) or not gid[len(prefix):].isdigit():
        return None
    op = state.shopify_bulk_ops.get(int(gid[len(prefix):]))
    return op if op is not None and op.shop == shop else None


def current(state, shop: str, type: str = "QUERY", **_) -> dict | None:
    if type != "QUERY":
        return None  # bulk mutations are not simulated
    mine = [op for op in state.shopify_bulk_ops.values() if op.shop == shop]
    return describe(state, mine[-1]) if mine else None


def describe(state, op: BulkOperation) -> dict:
    """The BulkOperation object as GraphQL returns it (UnsignedInt64 fields are strings)."""
    now = state.now()
    status = op.status
    expired = op.completed_at is not None and now > op.completed_at + URL_LIFETIME
    if status == "COMPLETED" and expired:
        status = "EXPIRED"
    url = partial = None
    if status == "COMPLETED" and op.object_count:
        url = signed_url(state, op, "final")
    if status in ("FAILED", "CANCELED") and op.partial_roots and not expired:
        partial = signed_url(state, op, "partial")
    return {"__typename": "BulkOperation", "id": op.gid, "status": status, "type": "QUERY",
            "errorCode": op.error_code, "query": op.query, "createdAt": _time(op.created_at),
            "completedAt": _time(op.completed_at) if op.completed_at is not None else None,
            "objectCount": str(op.object_count), "rootObjectCount": str(op.root_count),
            "fileSize": str(op.file_size) if status == "COMPLETED" and op.object_count else None,
            "url": url, "partialDataUrl": partial}


def _time(ts: float) -> str:
    return rfc3339(datetime.fromtimestamp(ts, tz=UTC))


def _run(app, resolvers, op: BulkOperation) -> None:
    """The job: walk the data (counting objects and bytes), wait out ``bulk_seconds``, finish, announce."""
    state = app.state
    faults = state.faults["shopify"]
    with state.lock:
        if op.status == "CREATED":
            op.status = "RUNNING"
    try:
        for is_root, line in iter_lines(resolvers, op):
            if op.cancel_requested or state.shutdown.is_set():
                break
            op.object_count += 1
            op.root_count += is_root
            op.file_size += len(line)
        crashed = None
    except Exception:  # a sandbox bug fails the operation as Shopify's would, instead of leaving it RUNNING
        log.exception("bulk operation %s failed", op.gid)
        crashed = "INTERNAL_SERVER_ERROR"
    due = op.created_at + faults.bulk_seconds
    while not op.cancel_requested and state.now() < due:
        if state.shutdown.wait(0.02):
            return
    with state.lock:
        op.completed_at = state.now()
        if op.cancel_requested:
            op.status, op.partial_roots = "CANCELED", op.root_count
        elif crashed or faults.bulk_error_code:
            op.status, op.error_code = "FAILED", crashed or faults.bulk_error_code
            op.partial_roots = op.root_count // 2
        else:
            op.status = "COMPLETED"
        subscribed = any(s["topic_name"] == "bulk_operations/finish"
                         for s in state.shopify_subscriptions.get(op.shop, []))
    if subscribed:
        app.webhooks.send_shopify(op.shop, "bulk_operations/finish", {
            "admin_graphql_api_id": op.gid, "completed_at": _time(op.completed_at),
            "created_at": _time(op.created_at), "error_code": (op.error_code or "").lower() or None,
            "status": op.status.lower(), "type": "query"})


# --- the "storage" host: signed, expiring result URLs ----------------------------------------------------------
def _signature(state, path: str, date: str, expires: str) -> str:
    return hmac.new(state.storage_key, f"GET\n{path}\n{date}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_url(state, op: BulkOperation, kind: str) -> str:
    path = f"/storage/shopify-bulk/{op.number}/{kind}.jsonl"
    date = datetime.fromtimestamp(op.completed_at, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    expires = str(URL_LIFETIME)
    return (f"{op.base_url}{path}?X-Goog-Algorithm=GOOG4-HMAC-SHA256&X-Goog-Date={date}&X-Goog-Expires={expires}"
            f"&X-Goog-SignedHeaders=host&X-Goog-Signature={_signature(state, path, date, expires)}")


def _storage_error(code: str, message: str, status: int) -> Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(body, status=status, content_type="application/xml; charset=UTF-8")


def download(app, request: Request, number: int, kind: str):
    """GET a result file: no token, the signature and expiry in the query string (as a GCS signed URL)."""
    from .graphql import ShopResolvers

    state = app.state
    args = request.args
    date, expires, signature = args.get("X-Goog-Date", ""), args.get("X-Goog-Expires", ""), args.get(
        "X-Goog-Signature", "")
    if not (date and expires.isdigit() and signature):
        return _storage_error("MissingSecurityHeader", "Anonymous caller does not have storage.objects.get access.",
                              403)
    if not hmac.compare_digest(signature, _signature(state, request.path, date, expires)):
        return _storage_error("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                       "signature you provided.", 403)
    try:
        signed_at = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return _storage_error("AuthenticationRequired", "Invalid X-Goog-Date.", 400)
    if state.now() > signed_at + int(expires):
        return _storage_error("ExpiredToken", "Invalid argument: the signed URL has expired.", 400)
    op = state.shopify_bulk_ops.get(number)
    if op is None:
        return _storage_error("NoSuchKey", "The specified key does not exist.", 404)
    max_roots = op.root_count if kind == "final" else op.partial_roots
    resolvers = ShopResolvers(app, op.shop, state.merchant("shopify", op.shop))
    body = (line for _is_root, line in iter_lines(resolvers, op, max_roots=max_roots))
    if kind == "final":
        faults = state.faults["shopify"]
        with state.lock:
            short, faults.bulk_short_read = faults.bulk_short_read, 0
        if short:
            body = itertools.islice(body, max(0, op.object_count - short))
    return Response(body, status=200, content_type="application/jsonl", direct_passthrough=True)


ROUTES = [
    Route("/storage/shopify-bulk/<int:number>/<any(final, partial):kind>.jsonl", download, provider="shopify"),
]
