"""Shopify's published Admin GraphQL schema is the judge of every document the portal sends (issue 13).

The schema comes from the npm registry at test time (``tests/shopify_published.py``), for the pinned Admin API
version and the one before it. Every GraphQL document the portal can send lives in
``integrations/providers/shopify/queries.py``; a source scan keeps it that way, so "every document" stays true.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from graphql import GraphQLSchema, parse, validate

from integrations.providers.shopify import queries, streams
from sandbox.shopify.schema import SCHEMA as SANDBOX_SCHEMA
from tests.shopify_published import PINNED_VERSION, VERSIONS, published_schema

ROOT = Path(__file__).resolve().parents[2]

# What queries.py said before issue 13: ProductVariantSortKeys has no UPDATED_AT in any supported version.
OLD_VARIANTS = """
query Variants($after: String, $query: String) {
  productVariants(first: 250, after: $after, sortKey: UPDATED_AT, query: $query) {
    nodes { id sku barcode title updatedAt product { title } inventoryItem { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def portal_documents() -> dict[str, str]:
    """Every GraphQL document in queries.py (operations and bulk inner queries; field lists are not documents)."""
    found = {}
    for name, value in vars(queries).items():
        if name.isupper() and isinstance(value, str) and value.lstrip().startswith(("query", "mutation", "{")):
            found[name] = value
    return found


def problems(schema: GraphQLSchema, text: str) -> list[str]:
    return [error.message for error in validate(schema, parse(text))]


@pytest.fixture(scope="module", params=VERSIONS)
def shopify_schema(request) -> GraphQLSchema:
    return published_schema(request.param)


def test_the_portal_pins_the_newest_version_the_judge_checks():
    assert settings.SHOPIFY_API_VERSION == PINNED_VERSION


def test_the_documents_found_include_each_kind_the_portal_sends():
    documents = portal_documents()
    # queries, mutations, bulk inner queries, webhook subscription mutation, connection test
    for name in ("VARIANTS", "ORDERS", "INVENTORY_LEVELS", "BULK_RUN", "BULK_STATUS", "BULK_VARIANTS",
                 "BULK_ORDERS", "WEBHOOK_CREATE", "SHOP", "APP_UNINSTALL", "ORDER", "ORDER_REFUNDS", "REFUND_LINES"):
        assert name in documents, name
    bulk = {getattr(cls, "bulk_query", None) for cls in streams.STREAMS.values()} - {None}  # the stock check has none
    assert bulk <= set(documents.values())


@pytest.mark.parametrize("name", sorted(portal_documents()))
def test_every_portal_document_validates_against_the_published_schema(shopify_schema, name):
    assert problems(shopify_schema, portal_documents()[name]) == []


def test_the_old_updated_at_variants_document_is_rejected(shopify_schema):
    found = problems(shopify_schema, OLD_VARIANTS)
    assert any("UPDATED_AT" in message and "ProductVariantSortKeys" in message for message in found), found


def test_the_sandbox_refuses_the_old_variants_document_too():
    assert any("UPDATED_AT" in message for message in problems(SANDBOX_SCHEMA, OLD_VARIANTS))


def test_every_graphql_call_in_the_portal_sends_a_document_from_queries():
    """A document written inline at a call site would escape the judge: only names and attributes are allowed,
    and any name passed must be a parameter (``connection_pages``) or come from queries.py."""
    offenders = []
    for path in (ROOT / "integrations").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "graphql"
                    and node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp))):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def _sandbox_named_types():
    for named in SANDBOX_SCHEMA.type_map.values():
        if not named.name.startswith("__") and named.name not in ("String", "Int", "Float", "Boolean", "ID"):
            yield named


def test_the_sandbox_schema_invents_nothing_shopify_does_not_publish():
    """Everything the sandbox's schema declares (types, fields, arguments, enum values) exists in the pinned
    published schema, so a document the sandbox accepts is one Shopify's validation accepts."""
    published = published_schema(PINNED_VERSION)
    root_names = {SANDBOX_SCHEMA.query_type.name: published.query_type.name,
                  SANDBOX_SCHEMA.mutation_type.name: published.mutation_type.name}
    invented = []
    for named in _sandbox_named_types():
        real = published.get_type(root_names.get(named.name, named.name))
        if real is None:
            invented.append(named.name)
            continue
        if hasattr(named, "values"):
            invented += [f"{named.name}.{v}" for v in named.values if v not in real.values]
        if hasattr(named, "fields"):
            for field_name, field in named.fields.items():
                real_field = real.fields.get(field_name) if hasattr(real, "fields") else None
                if real_field is None:
                    invented.append(f"{named.name}.{field_name}")
                    continue
                args = getattr(field, "args", None) or {}
                invented += [f"{named.name}.{field_name}({a})" for a in args if a not in real_field.args]
    assert invented == [], invented


# --- the sandbox's schema is the published one (issue 13, part D) ---------------------------------------------------
def test_the_sandbox_serves_the_published_schema_in_tests():
    from sandbox.shopify import schema as sandbox_schema

    assert sandbox_schema.SCHEMA_SOURCE == f"published {PINNED_VERSION}"
    assert SANDBOX_SCHEMA is published_schema(PINNED_VERSION)


def test_the_fallback_slice_invents_nothing_the_published_schema_lacks():
    """`make run` without npm validates against the hand-written slice: a subset of Shopify's schema, so a
    document it accepts is one Shopify accepts (it may refuse more, never less)."""
    from graphql import build_schema

    from sandbox.shopify.schema import SDL

    fallback = build_schema(SDL)
    published = published_schema(PINNED_VERSION)
    roots = {fallback.query_type.name: published.query_type.name,
             fallback.mutation_type.name: published.mutation_type.name}
    invented = []
    for named in fallback.type_map.values():
        if named.name.startswith("__") or named.name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        real = published.get_type(roots.get(named.name, named.name))
        if real is None:
            invented.append(named.name)
            continue
        if hasattr(named, "values"):
            invented += [f"{named.name}.{v}" for v in named.values if v not in real.values]
        for field_name, field in getattr(named, "fields", {}).items():
            real_field = getattr(real, "fields", {}).get(field_name)
            if real_field is None:
                invented.append(f"{named.name}.{field_name}")
                continue
            invented += [f"{named.name}.{field_name}({a})" for a in getattr(field, "args", {}) or {}
                         if a not in real_field.args]
    assert invented == [], invented


def _post(sandbox, query: str, variables: dict | None = None) -> dict:
    import requests

    from tests.sync.e2e_helpers import SCOPES

    shop = sandbox.default_account("shopify")
    token = sandbox.state.issue_token("shopify", shop, settings.SHOPIFY_CLIENT_ID, "access", None,
                                      scopes=SCOPES["shopify"])
    answer = requests.post(f"{sandbox.url}/shopify/{shop}/admin/api/{PINNED_VERSION}/graphql.json",
                           json={"query": query, "variables": variables or {}},
                           headers={"X-Shopify-Access-Token": token}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_sandbox_refuses_the_old_variants_document_as_shopify_does(sandbox_server):
    body = _post(sandbox_server, OLD_VARIANTS)
    assert "data" not in body
    # Shopify's (graphql-ruby's) wording and extensions for a literal its argument's type refuses.
    assert body["errors"] == [{
        "message": "Argument 'sortKey' on Field 'productVariants' has an invalid value (UPDATED_AT). "
                   "Expected type 'ProductVariantSortKeys'.",
        "locations": [{"line": 3, "column": 3}],
        "path": ["query Variants", "productVariants", "sortKey"],
        "extensions": {"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": "sortKey"}}]
    # The document the portal sends instead is accepted and served.
    served = _post(sandbox_server, queries.VARIANTS, {"query": None})
    assert "errors" not in served and served["data"]["productVariants"]["nodes"]


def test_a_field_no_type_has_is_refused_and_a_valid_unserved_field_answers_null(sandbox_server):
    body = _post(sandbox_server, '{ shop { name nonsense } }')
    assert body["errors"][0]["message"] == "Field 'nonsense' doesn't exist on type 'Shop'"
    assert body["errors"][0]["extensions"] == {"code": "undefinedField", "typeName": "Shop", "fieldName": "nonsense"}
    # Shop.description is a real nullable field the sandbox does not serve: null, nothing invented.
    served = _post(sandbox_server, "{ shop { name description } }")
    assert served["data"]["shop"] == {"name": served["data"]["shop"]["name"], "description": None}
    # Shop.email is real and non-null: not served is a field error (null up to the nearest nullable parent, here
    # the whole answer since QueryRoot.shop is non-null too), never a made-up value.
    unserved = _post(sandbox_server, "{ shop { name email } }")
    assert unserved["data"] is None
    assert unserved["errors"][0]["path"] == ["shop", "email"]


def test_the_refund_documents_are_served_with_the_lines_they_name(sandbox_server):
    sandbox_server.refund_order("shopify", order=5, items=[(0, 1)], restock_type="RETURN")
    order = sandbox_server.merchant("shopify").order(5)
    from sandbox.shopify.objects import gid

    body = _post(sandbox_server, queries.ORDER_REFUNDS, {"id": gid("Order", 5)})
    assert "errors" not in body, body
    [refund] = body["data"]["order"]["refunds"]
    [line] = refund["refundLineItems"]["nodes"]
    assert (line["quantity"], line["restockType"], line["lineItem"]["id"]) == (1, "RETURN", gid("LineItem", 5 * 16))
    assert refund["return"] is not None
    assert line["priceSet"]["shopMoney"]["amount"] == f"{order.lines[0].unit_price_cents / 100:.2f}"
    more = _post(sandbox_server, queries.REFUND_LINES, {"id": refund["id"], "after": None})
    assert more["data"]["refund"]["refundLineItems"]["nodes"] == refund["refundLineItems"]["nodes"]
    full = _post(sandbox_server, queries.ORDER, {"id": gid("Order", 5)})
    assert full["data"]["order"]["refunds"] == [{"id": refund["id"]}]
