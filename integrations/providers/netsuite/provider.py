from django.conf import settings

from ..base import Provider, RatePolicy
from ..registry import register


def account_host(account_id: str) -> str:
    """NetSuite writes account ids with an underscore suffix (1234567_SB1) but host names with a lower-case
    hyphen (1234567-sb1)."""
    return account_id.strip().lower().replace("_", "-")


@register
class NetSuiteProvider(Provider):
    key = "netsuite"
    name = "NetSuite"
    kind = "erp"
    connect_input = "account"
    # One account-wide pool of concurrent requests (Standard tier 5), shared by every integration.
    rate_policy = RatePolicy(kind="concurrency", concurrency=5, lease_seconds=900.0)
    schedule_defaults = {"locations": 86400, "items": 86400, "inventory": 900, "sales": 3600}

    def app_base_url(self, account_id: str) -> str:
        return settings.NETSUITE_APP_URL_TEMPLATE.format(account_host=account_host(account_id)).rstrip("/")

    def oauth(self):
        from .oauth import NetSuiteOAuth

        return NetSuiteOAuth(self)

    def api_base_url(self, connection) -> str:
        override = (connection.settings or {}).get("api_base_url")
        if override:
            return override.rstrip("/")
        return settings.NETSUITE_API_URL_TEMPLATE.format(
            account_host=account_host(connection.external_account_id)
        ).rstrip("/")
