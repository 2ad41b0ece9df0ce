"""GraphQL documents for the Shopify streams (Admin API, pinned version in settings.SHOPIFY_API_VERSION).

Page sizes keep each query's *requested* cost under the 1,000-point single-query cap (provider-facts 2.4:
connections cost ``first`` x node cost); the client paces the rest from ``throttleStatus``.
"""

LOCATIONS = """
query Locations($after: String) {
  locations(first: 250, after: $after, includeInactive: true) {
    nodes { id name isActive address { address1 city province zip countryCode } }
    pageInfo { hasNextPage endCursor }
  }
}"""

VARIANT_FIELDS = "id sku barcode title updatedAt product { id title } inventoryItem { id }"

# ProductVariantSortKeys has no UPDATED_AT in any supported version (only products and orders sort by it), so
# variants page in ID order under an ``updated_at`` filter: an unordered stream (streams.ShopifyVariants).
VARIANTS = """
query Variants($after: String, $query: String) {
  productVariants(first: 250, after: $after, sortKey: ID, query: $query) {
    nodes { """ + VARIANT_FIELDS + """ }
    pageInfo { hasNextPage endCursor }
  }
}"""

LOCATION_IDS = """
query LocationIds($after: String) {
  locations(first: 250, after: $after, includeInactive: true) {
    nodes { id }
    pageInfo { hasNextPage endCursor }
  }
}"""

INVENTORY_LEVELS = """
query Levels($location: ID!, $after: String, $query: String) {
  location(id: $location) {
    inventoryLevels(first: 100, after: $after, query: $query) {
      nodes {
        updatedAt item { id }
        quantities(names: ["available", "on_hand", "committed", "incoming"]) { name quantity }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

# retailLocation (the POS location) replaced the deprecated physicalLocation in 2024-07; the mapper still reads
# either, for stored payloads.
# ``refunds { id }`` is cheap (a plain list): only an order that has refunds gets the ORDER_REFUNDS follow-up, whose
# line connections would be far too dear to request for every order of a page.
ORDER_FIELDS = ("id createdAt processedAt updatedAt cancelledAt displayFinancialStatus currencyCode "
                "retailLocation { id } refunds { id }")
LINE_FIELDS = ("id sku quantity currentQuantity variant { id } "
               "originalUnitPriceSet { shopMoney { amount currencyCode } }")

ORDERS = """
query Orders($after: String, $query: String) {
  orders(first: 8, after: $after, sortKey: UPDATED_AT, query: $query) {
    nodes { """ + ORDER_FIELDS + """
      lineItems(first: 25) { nodes { """ + LINE_FIELDS + """ } pageInfo { hasNextPage endCursor } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

ORDER_LINES = """
query OrderLines($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 100, after: $after) { nodes { """ + LINE_FIELDS + """ } pageInfo { hasNextPage endCursor } }
  }
}"""

# Refunds (a return that gives money back is a refund with ``return`` set): each refund line names the sold line.
REFUND_LINE_FIELDS = "id quantity restockType lineItem { id } priceSet { shopMoney { amount currencyCode } }"

ORDER_REFUNDS = """
query OrderRefunds($id: ID!) {
  order(id: $id) {
    refunds {
      id createdAt updatedAt return { id }
      refundLineItems(first: 100) { nodes { """ + REFUND_LINE_FIELDS + """ } pageInfo { hasNextPage endCursor } }
    }
  }
}"""

REFUND_LINES = """
query RefundLines($id: ID!, $after: String) {
  refund(id: $id) {
    refundLineItems(first: 100, after: $after) {
      nodes { """ + REFUND_LINE_FIELDS + """ } pageInfo { hasNextPage endCursor }
    }
  }
}"""

# One order in full (a refunds/create webhook names the order; the sale and its refunds are read as a sync reads them).
ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    """ + ORDER_FIELDS + """
    lineItems(first: 100) { nodes { """ + LINE_FIELDS + """ } pageInfo { hasNextPage endCursor } }
  }
}"""

# Bulk operations: no cost cap, nested connections come back as separate JSONL lines with __parentId.
BULK_VARIANTS = "{ productVariants { edges { node { " + VARIANT_FIELDS + " } } } }"
BULK_ORDERS = ("{ orders { edges { node { " + ORDER_FIELDS
               + " lineItems { edges { node { " + LINE_FIELDS + " } } } } } } }")

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status createdAt } userErrors { field message code } }
}"""

BULK_STATUS = """
query BulkStatus($id: ID!) {
  bulkOperation(id: $id) { id status errorCode createdAt objectCount url partialDataUrl }
}"""

# Registered after connecting, one call per topic (oauth.after_connect).
WEBHOOK_CREATE = """
mutation webhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

# The connection test (oauth.test_connection).
SHOP = "{ shop { name myshopifyDomain } }"

# Disconnect: Shopify has no token-revocation endpoint; an app uninstalls itself with appUninstall, which ends every
# token it holds for the shop and deletes its webhook subscriptions.
APP_UNINSTALL = """
mutation AppUninstall {
  appUninstall { app { id } userErrors { field message code } }
}"""
