"""NetSuite's settings, read from the environment by shelfops/settings.py (names are the deployment contract).
Imported before Django is set up: nothing here may import Django or the rest of the portal."""


def declare(env, *, local: bool, sandbox_url: str) -> dict[str, object]:
    environment = env.str("NETSUITE_ENVIRONMENT", default="local")
    sandboxed = environment == "local"  # the provider talks to the ShelfOps sandbox: its built-in credentials
    production = environment == "production"
    return {
        "NETSUITE_ENVIRONMENT": environment,
        # "{account_host}" is the account id as NetSuite writes it in host names: 1234567_SB1 -> 1234567-sb1
        "NETSUITE_APP_URL_TEMPLATE": env.str(
            "NETSUITE_APP_URL_TEMPLATE",
            default="https://{account_host}.app.netsuite.com" if production
            else f"{sandbox_url}/netsuite/{{account_host}}/app",
        ),
        "NETSUITE_API_URL_TEMPLATE": env.str(
            "NETSUITE_API_URL_TEMPLATE",
            default="https://{account_host}.suitetalk.api.netsuite.com" if production
            else f"{sandbox_url}/netsuite/{{account_host}}/suitetalk",
        ),
        "NETSUITE_CLIENT_ID": env.str("NETSUITE_CLIENT_ID",
                                      default="shelfops-local-netsuite-client" if sandboxed else ""),
        "NETSUITE_CLIENT_SECRET": env.str("NETSUITE_CLIENT_SECRET",
                                          default="shelfops-local-netsuite-secret" if sandboxed else ""),
        "NETSUITE_SCOPES": env.list("NETSUITE_SCOPES", default=["rest_webservices"]),
        "NETSUITE_DEFAULT_CONCURRENCY": env.int("NETSUITE_DEFAULT_CONCURRENCY", default=5),
    }
