"""ShipBob's settings (contract item 1: read by shelfops/settings.py without importing the Django app).

``SHIPBOB_ENVIRONMENT``: ``production`` (api.shipbob.com, auth.shipbob.com), ``sandbox`` (ShipBob's own
sandbox-api.shipbob.com and authstage.shipbob.com) or ``local`` (the ShelfOps sandbox, with its built-in app
credentials as defaults). Hosts are overridable (``SHIPBOB_API_URL``, ``SHIPBOB_AUTH_URL``)."""

from __future__ import annotations

HOSTS = {
    "production": ("https://api.shipbob.com", "https://auth.shipbob.com"),
    "sandbox": ("https://sandbox-api.shipbob.com", "https://authstage.shipbob.com"),
}
LOCAL_CLIENT_ID = "shelfops-local-shipbob-app"
LOCAL_CLIENT_SECRET = "shelfops-local-shipbob-secret"
DEFAULT_SCOPES = ["openid", "offline_access", "channels_read", "locations_read", "products_read", "inventory_read",
                  "orders_read", "fulfillments_read", "webhooks_read", "webhooks_write"]


def declare(env, *, local: bool, sandbox_url: str) -> dict[str, object]:
    environment = env.str("SHIPBOB_ENVIRONMENT", default="local")
    api, auth = HOSTS.get(environment, (f"{sandbox_url}/shipbob", f"{sandbox_url}/shipbob/auth"))
    is_local = environment == "local"
    return {
        "SHIPBOB_ENVIRONMENT": environment,
        "SHIPBOB_API_URL": env.str("SHIPBOB_API_URL", default=api).rstrip("/"),
        "SHIPBOB_AUTH_URL": env.str("SHIPBOB_AUTH_URL", default=auth).rstrip("/"),
        # The newest dated version at the time of writing (developer.shipbob.com/2026-07/...).
        "SHIPBOB_API_VERSION": env.str("SHIPBOB_API_VERSION", default="2026-07"),
        "SHIPBOB_CLIENT_ID": env.str("SHIPBOB_CLIENT_ID", default=LOCAL_CLIENT_ID if is_local else ""),
        "SHIPBOB_CLIENT_SECRET": env.str("SHIPBOB_CLIENT_SECRET", default=LOCAL_CLIENT_SECRET if is_local else ""),
        "SHIPBOB_SCOPES": env.list("SHIPBOB_SCOPES", default=DEFAULT_SCOPES),
        # Stock is read incrementally from the inventory history; a full read of every level runs this often.
        "SHIPBOB_FULL_STOCK_SECONDS": env.int("SHIPBOB_FULL_STOCK_SECONDS", default=6 * 3600),
    }
