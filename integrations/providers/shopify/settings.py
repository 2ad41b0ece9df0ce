"""Shopify's settings, read from the environment by shelfops/settings.py (names are the deployment contract).
Imported before Django is set up: nothing here may import Django or the rest of the portal."""


def declare(env, *, local: bool, sandbox_url: str) -> dict[str, object]:
    environment = env.str("SHOPIFY_ENVIRONMENT", default="local")
    sandboxed = environment == "local"  # the provider talks to the ShelfOps sandbox: its built-in credentials
    return {
        "SHOPIFY_ENVIRONMENT": environment,
        # "{shop}" is replaced by the validated shop domain, e.g. https://demo-shop.myshopify.com
        "SHOPIFY_BASE_URL_TEMPLATE": env.str(
            "SHOPIFY_BASE_URL_TEMPLATE",
            default="https://{shop}" if environment == "production" else f"{sandbox_url}/shopify/{{shop}}",
        ),
        "SHOPIFY_API_VERSION": env.str("SHOPIFY_API_VERSION", default="2026-10"),
        "SHOPIFY_CLIENT_ID": env.str("SHOPIFY_CLIENT_ID", default="shelfops-local-shopify-app" if sandboxed else ""),
        "SHOPIFY_CLIENT_SECRET": env.str("SHOPIFY_CLIENT_SECRET",
                                         default="shpss_shelfops_local_secret" if sandboxed else ""),
        "SHOPIFY_SCOPES": env.list(
            "SHOPIFY_SCOPES", default=["read_products", "read_inventory", "read_locations", "read_orders"]
        ),
        # Only *.myshopify.com shops are accepted; the pattern is a setting so a test host can be allowed.
        "SHOPIFY_SHOP_DOMAIN_PATTERN": env.str(
            "SHOPIFY_SHOP_DOMAIN_PATTERN", default=r"^[a-zA-Z0-9][a-zA-Z0-9\-]*\.myshopify\.com$"
        ),
        # A first or --full sync of these streams uses a bulk operation (streamed JSONL) instead of paging
        # (the local sandbox runs bulk operations too; set it empty to page everything).
        "SHOPIFY_BULK_STREAMS": env.list("SHOPIFY_BULK_STREAMS", default=["variants", "orders"]),
        "SHOPIFY_BULK_POLL_SECONDS": env.float("SHOPIFY_BULK_POLL_SECONDS", default=3.0),
    }
