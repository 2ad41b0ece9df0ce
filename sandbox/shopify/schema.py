"""The sandbox's Shopify GraphQL Admin API schema, and Shopify's query-cost arithmetic.

The schema is Shopify's own: the published introspection result of the pinned Admin API version
(``published.py``, npm ``@shopify/dev-mcp``), so a document is refused exactly when Shopify's validation refuses it
(``productVariants(sortKey: UPDATED_AT)``, ``InventoryLevel.available`` removed in 2024-04), with graphql-core's
messages in Shopify's ``errors`` shape. The sandbox resolves only what it serves; a valid field it does not serve
answers null (or, where the schema says non-null, a field error), never an invented value.

``SHELFOPS_SHOPIFY_SCHEMA`` picks the source: ``published`` (fetch it with npm when not cached; the test suite sets
this), ``fallback`` (the hand-written slice below, a subset of the published schema that a test keeps so), or
``auto`` (default: published when cached, else the fallback, said once in the log) so ``make run`` works with no
npm and no network.

Cost (provider-facts 2.4, Shopify's "rate limits" page): scalars and enums 0, objects 1, connections 2 + first/last x
(cost of one node), mutations 10. Requested cost uses first/last; actual cost uses the number of nodes really
returned, so it is never above the requested cost (Shopify charges the requested cost and refunds down to actual).
"""

from __future__ import annotations

import logging
import os

from graphql import build_schema
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode
from graphql.type import GraphQLObjectType, get_named_type
from graphql.utilities import value_from_ast_untyped

SDL = """
scalar DateTime
scalar Decimal
scalar URL
scalar Money
scalar UnsignedInt64
interface Node { id: ID! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type MoneyV2 { amount: Decimal! currencyCode: String! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type Shop { id: ID! name: String! myshopifyDomain: String! currencyCode: String! plan: ShopPlan! }
type ShopPlan { displayName: String! partnerDevelopment: Boolean! shopifyPlus: Boolean! }
type LocationAddress { address1: String city: String province: String countryCode: String zip: String }
type Location implements Node {
  id: ID! name: String! isActive: Boolean! legacyResourceId: String! address: LocationAddress!
  inventoryLevels(first: Int, last: Int, after: String, before: String, query: String): InventoryLevelConnection!
}
type Product implements Node { id: ID! title: String! updatedAt: DateTime! handle: String! }
type ProductVariant implements Node {
  id: ID! legacyResourceId: String! sku: String barcode: String title: String! displayName: String!
  price: Money! createdAt: DateTime! updatedAt: DateTime! product: Product! inventoryItem: InventoryItem!
}
type InventoryItem implements Node {
  id: ID! legacyResourceId: String! sku: String tracked: Boolean! updatedAt: DateTime! createdAt: DateTime!
  variant: ProductVariant!
  inventoryLevels(first: Int, last: Int, after: String, before: String, query: String): InventoryLevelConnection!
  inventoryLevel(locationId: ID!): InventoryLevel
}
type InventoryQuantity { id: ID! name: String! quantity: Int! updatedAt: DateTime }
type InventoryLevel implements Node {
  id: ID! location: Location! item: InventoryItem! updatedAt: DateTime! createdAt: DateTime!
  quantities(names: [String!]!): [InventoryQuantity!]!
}
type LineItem implements Node {
  id: ID! sku: String name: String! title: String! quantity: Int! currentQuantity: Int! variant: ProductVariant
  originalUnitPriceSet: MoneyBag! discountedUnitPriceSet: MoneyBag! originalTotalSet: MoneyBag!
}
type Order implements Node {
  id: ID! legacyResourceId: String! name: String! createdAt: DateTime! updatedAt: DateTime! processedAt: DateTime!
  cancelledAt: DateTime closedAt: DateTime displayFinancialStatus: String displayFulfillmentStatus: String!
  currencyCode: String! totalPriceSet: MoneyBag!
  physicalLocation: Location @deprecated(reason: "Use `retailLocation` instead.")
  retailLocation: Location
  lineItems(first: Int, last: Int, after: String, before: String): LineItemConnection!
  refunds(first: Int): [Refund!]!
}
type Return implements Node { id: ID! name: String! }
type Refund implements Node {
  id: ID! createdAt: DateTime updatedAt: DateTime! processedAt: DateTime! return: Return
  refundLineItems(first: Int, last: Int, after: String, before: String): RefundLineItemConnection!
}
enum RefundLineItemRestockType { CANCEL LEGACY_RESTOCK NO_RESTOCK RETURN }
type RefundLineItem {
  id: ID quantity: Int! restockType: RefundLineItemRestockType! restocked: Boolean! lineItem: LineItem!
  priceSet: MoneyBag! subtotalSet: MoneyBag!
}
type WebhookSubscription implements Node {
  id: ID! topic: WebhookSubscriptionTopic! uri: String! callbackUrl: URL! format: String!
  createdAt: DateTime! updatedAt: DateTime!
}
type UserError { field: [String!] message: String! }
type BulkOperation implements Node {
  id: ID! status: BulkOperationStatus! type: BulkOperationType! errorCode: BulkOperationErrorCode query: String!
  createdAt: DateTime! completedAt: DateTime objectCount: UnsignedInt64! rootObjectCount: UnsignedInt64!
  fileSize: UnsignedInt64 url: URL partialDataUrl: URL
}
enum BulkOperationStatus { CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }
enum BulkOperationType { MUTATION QUERY }
enum BulkOperationErrorCode { ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }
enum BulkOperationUserErrorCode { INVALID OPERATION_IN_PROGRESS LIMIT_REACHED }
type BulkOperationUserError { field: [String!] message: String! code: BulkOperationUserErrorCode }
type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }
type BulkOperationCancelPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }
input WebhookSubscriptionInput { uri: String callbackUrl: URL format: String filter: String includeFields: [String!] }
enum WebhookSubscriptionTopic {
  APP_UNINSTALLED BULK_OPERATIONS_FINISH INVENTORY_ITEMS_CREATE INVENTORY_ITEMS_DELETE INVENTORY_ITEMS_UPDATE
  INVENTORY_LEVELS_CONNECT INVENTORY_LEVELS_DISCONNECT INVENTORY_LEVELS_UPDATE LOCATIONS_CREATE LOCATIONS_DELETE
  LOCATIONS_UPDATE ORDERS_CANCELLED ORDERS_CREATE ORDERS_DELETE ORDERS_FULFILLED ORDERS_PAID ORDERS_UPDATED
  PRODUCTS_CREATE PRODUCTS_DELETE PRODUCTS_UPDATE REFUNDS_CREATE SHOP_UPDATE
}
type App { id: ID! title: String! apiKey: String! handle: String }
enum AppUninstallAppUninstallErrorCode {
  APP_NOT_FOUND APP_NOT_INSTALLED APP_UNINSTALL_ERROR USER_PERMISSIONS_INSUFFICIENT
}
type AppUninstallAppUninstallError { field: [String!] message: String! code: AppUninstallAppUninstallErrorCode }
type AppUninstallPayload { app: App userErrors: [AppUninstallAppUninstallError!]! }
enum ProductVariantSortKeys { ID SKU }
enum OrderSortKeys { ID CREATED_AT UPDATED_AT PROCESSED_AT }
enum LocationSortKeys { ID NAME }
"""
CONNECTIONS = {
    "Location": "LocationConnection", "ProductVariant": "ProductVariantConnection",
    "InventoryItem": "InventoryItemConnection", "InventoryLevel": "InventoryLevelConnection",
    "Order": "OrderConnection", "LineItem": "LineItemConnection", "RefundLineItem": "RefundLineItemConnection",
    "WebhookSubscription": "WebhookSubscriptionConnection",
}
SDL += "".join(
    f"type {node}Edge {{ cursor: String! node: {node}! }}\n"
    f"type {conn} {{ nodes: [{node}!]! edges: [{node}Edge!]! pageInfo: PageInfo! }}\n"
    for node, conn in CONNECTIONS.items()
)
PAGE = "first: Int, last: Int, after: String, before: String, reverse: Boolean, query: String"
SDL += f"""
type Query {{
  shop: Shop!
  node(id: ID!): Node
  location(id: ID!): Location
  locations({PAGE}, sortKey: LocationSortKeys, includeInactive: Boolean): LocationConnection!
  productVariant(id: ID!): ProductVariant
  productVariants({PAGE}, sortKey: ProductVariantSortKeys): ProductVariantConnection!
  inventoryItem(id: ID!): InventoryItem
  inventoryItems({PAGE}): InventoryItemConnection!
  order(id: ID!): Order
  refund(id: ID!): Refund
  orders({PAGE}, sortKey: OrderSortKeys): OrderConnection!
  webhookSubscriptions({PAGE}, topics: [WebhookSubscriptionTopic!]): WebhookSubscriptionConnection!
  bulkOperation(id: ID!): BulkOperation
  currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
}}
type Mutation {{
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!):
    WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  bulkOperationRunQuery(query: String!, groupObjects: Boolean): BulkOperationRunQueryPayload
  bulkOperationCancel(id: ID!): BulkOperationCancelPayload
  appUninstall: AppUninstallPayload
}}
"""
log = logging.getLogger(__name__)


def _load():
    from . import published

    mode = os.environ.get("SHELFOPS_SHOPIFY_SCHEMA", "auto")
    if mode == "fallback":
        return build_schema(SDL), "fallback"
    if mode == "published" or published.is_cached():
        return published.published_schema(published.PINNED_VERSION), f"published {published.PINNED_VERSION}"
    log.warning("Shopify's published Admin schema is not cached (%s; `make install` fetches it with npm): the "
                "sandbox validates against its fallback slice of the schema", published.cache_dir())
    return build_schema(SDL), "fallback"


SCHEMA, SCHEMA_SOURCE = _load()
MAX_PAGE = 250
MAX_QUERY_COST = 1000


def _fields(selection_set, fragments, parent: GraphQLObjectType):
    """Fields of a selection set with fragments inlined, each with the object type it is selected on."""
    for sel in selection_set.selections if selection_set else []:
        if isinstance(sel, FieldNode):
            yield sel, parent
        elif isinstance(sel, InlineFragmentNode):
            on = SCHEMA.get_type(sel.type_condition.name.value) if sel.type_condition else parent
            yield from _fields(sel.selection_set, fragments, on)
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
            frag = fragments[sel.name.value]
            yield from _fields(frag.selection_set, fragments, SCHEMA.get_type(frag.type_condition.name.value))


def _page_size(field: FieldNode, variables: dict) -> int:
    for arg in field.arguments:
        if arg.name.value in ("first", "last"):
            value = value_from_ast_untyped(arg.value, variables)
            return int(value or 0)
    return 0


def _cost(selection_set, parent, fragments, variables, data=None) -> int:
    """Requested cost when ``data`` is None, else actual cost measured on the returned ``data``."""
    total = 0
    for field, on in _fields(selection_set, fragments, parent):
        if not field.selection_set or not hasattr(on, "fields") or field.name.value not in on.fields:
            continue
        named = get_named_type(on.fields[field.name.value].type)
        key = field.alias.value if field.alias else field.name.value
        value = None if data is None else (data.get(key) if isinstance(data, dict) else None)
        if data is not None and value is None:
            continue
        if named.name.endswith("Connection"):
            total += 2 + _connection_cost(field, named, fragments, variables, value)
            continue
        if data is not None and isinstance(value, list):
            # A plain list of objects (not a connection, e.g. ``quantities(names:)``) is priced like one object at
            # request time, so its actual cost is that of its dearest element: actual never exceeds requested.
            total += 1 + max((_cost(field.selection_set, named, fragments, variables, v) for v in value), default=0)
        else:
            total += 1 + _cost(field.selection_set, named, fragments, variables, value)
    return total


def _connection_cost(field, conn_type, fragments, variables, data) -> int:
    node_type = get_named_type(conn_type.fields["nodes"].type)
    total = 0
    for sub, _on in _fields(field.selection_set, fragments, conn_type):
        name = sub.name.value
        key = sub.alias.value if sub.alias else name
        if name == "nodes":
            selections, items = sub.selection_set, (data or {}).get(key) if data is not None else None
        elif name == "edges":
            edge_fields = _fields(sub.selection_set, fragments, conn_type)
            node_field = next((f for f, _ in edge_fields if f.name.value == "node"), None)
            if node_field is None:
                continue
            selections = node_field.selection_set
            edge_key = node_field.alias.value if node_field.alias else "node"
            items = [e.get(edge_key) for e in (data or {}).get(key) or []] if data is not None else None
        else:
            continue
        if data is None:
            total += _page_size(field, variables) * (1 + _cost(selections, node_type, fragments, variables))
        else:
            total += sum(1 + _cost(selections, node_type, fragments, variables, item) for item in items or [])
    return total


def query_cost(document, variables: dict, data: dict | None = None) -> int:
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    total = 0
    for op in document.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        if op.operation.value == "mutation":
            total += 10 * len(op.selection_set.selections)
            continue
        total += _cost(op.selection_set, SCHEMA.query_type, fragments, variables or {}, data)
    return max(total, 1)
