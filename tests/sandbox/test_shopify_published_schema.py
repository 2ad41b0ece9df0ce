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
                 "BULK_ORDERS", "WEBHOOK_CREATE", "SHOP", "APP_UNINSTALL"):
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
