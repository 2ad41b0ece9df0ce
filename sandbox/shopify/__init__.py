"""Shopify stand-in: OAuth, GraphQL Admin API, webhooks."""
