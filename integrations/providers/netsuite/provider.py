from django.conf import settings

from ..base import ConnectField, Provider, RatePolicy
from ..registry import register


def account_host(account_id: str) -> str:
    """NetSuite writes account ids with an underscore suffix (1234567_SB1) but host names with a lower-case
    hyphen (1234567-sb1)."""
    return account_id.strip().lower().replace("_", "-")


@register
class NetSuiteProvider(Provider):
    key = "netsuite"
    sandbox_credentials = frozenset({"shelfops-local-netsuite-client", "shelfops-local-netsuite-secret"})
    name = "NetSuite"
    request_id_headers = ("x-n-operationid",)
    kind = "erp"
    connect_fields = (ConnectField("account", "Account id", "1234567 or 1234567_SB1"),)
    schedule_defaults = {"locations": 86400, "items": 86400, "inventory": 900, "sales": 3600, "deletes": 3600,
                         "reconcile_stock": 86400}  # the stock check (integrations.sync.reconcile), daily

    @property
    def rate_policy(self) -> RatePolicy:
        """One account-wide pool of concurrent requests (Standard tier 5, settings.NETSUITE_DEFAULT_CONCURRENCY),
        shared by every integration and worker; ``Connection.settings["concurrency"]`` raises it for accounts with
        more (the client applies that override). The lease matches NetSuite's 15-minute request timeout. ``rate``
        only paces the account for a while after a pool-full answer: the pool limits concurrency, not a rate, so
        a high floor (``min_rate``) keeps such a slow-down mild."""
        return RatePolicy(kind="concurrency", concurrency=int(settings.NETSUITE_DEFAULT_CONCURRENCY),
                          lease_seconds=900.0, rate=20.0, burst=20.0, extra={"min_rate": 5.0})

    def streams(self) -> dict:
        from .streams import STREAMS

        return STREAMS

    def app_base_url(self, account_id: str) -> str:
        return settings.NETSUITE_APP_URL_TEMPLATE.format(account_host=account_host(account_id)).rstrip("/")

    def admin_form_fields(self) -> dict:
        from .admin_form import admin_form_fields

        return admin_form_fields()

    def clean_admin_form(self, form, cleaned: dict) -> dict:
        from .admin_form import clean_admin_form

        return clean_admin_form(form, cleaned)

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
