"""Shopify's published Admin GraphQL schema for the test suite's judge: the npm package ``@shopify/dev-mcp``,
fetched at test time when not cached (``sandbox/shopify/published.py``). No network and no cache is a test error
with the reason, not a skip: the judge must not silently vanish."""

from sandbox.shopify.published import (  # noqa: F401 - re-exported for the tests
    DEV_MCP_PACKAGE,
    DEV_MCP_VERSION,
    PINNED_VERSION,
    PREVIOUS_VERSION,
    VERSIONS,
    cache_dir,
    published_schema,
    schema_file,
)
