"""Square's settings, read from the environment by shelfops/settings.py (names are the deployment contract).
Imported before Django is set up: nothing here may import Django or the rest of the portal."""


def declare(env, *, local: bool, sandbox_url: str) -> dict[str, object]:
    environment = env.str("SQUARE_ENVIRONMENT", default="local")
    sandboxed = environment == "local"  # the provider talks to the ShelfOps sandbox: its built-in credentials
    return {
        "SQUARE_ENVIRONMENT": environment,
        "SQUARE_BASE_URL": env.str(
            "SQUARE_BASE_URL",
            default={
                "production": "https://connect.squareup.com",
                "sandbox": "https://connect.squareupsandbox.com",
            }.get(environment, f"{sandbox_url}/square"),
        ).rstrip("/"),
        "SQUARE_API_VERSION": env.str("SQUARE_API_VERSION", default="2026-09-16"),
        "SQUARE_CLIENT_ID": env.str("SQUARE_CLIENT_ID", default="sq0idp-shelfops-local" if sandboxed else ""),
        "SQUARE_CLIENT_SECRET": env.str("SQUARE_CLIENT_SECRET",
                                        default="sq0csp-shelfops-local-secret" if sandboxed else ""),
        "SQUARE_WEBHOOK_SIGNATURE_KEY": env.str(
            "SQUARE_WEBHOOK_SIGNATURE_KEY", default="shelfops-local-square-signature-key" if sandboxed else ""
        ),
        "SQUARE_SCOPES": env.list(
            "SQUARE_SCOPES",
            default=["MERCHANT_PROFILE_READ", "ITEMS_READ", "INVENTORY_READ", "ORDERS_READ", "PAYMENTS_READ"],
        ),
        # The exact URL registered on the Square subscription, signed byte for byte; never rebuilt from request
        # headers. Empty means BASE_URL + "/webhooks/square/".
        "SQUARE_WEBHOOK_NOTIFICATION_URL": env.str("SQUARE_WEBHOOK_NOTIFICATION_URL", default=""),
        # Offline POS orders reach Square up to 72 h late: the orders stream re-reads this window every run.
        "SQUARE_ORDERS_OVERLAP_SECONDS": env.int("SQUARE_ORDERS_OVERLAP_SECONDS", default=72 * 3600),
    }
