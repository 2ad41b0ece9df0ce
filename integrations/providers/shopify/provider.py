from django.conf import settings

from ..base import ConnectField, Provider, RatePolicy
from ..registry import register
from . import limiters  # noqa: F401  (registers the shopify_rest and shopify_graphql limiter kinds)


def shop_base_url(shop: str) -> str:
    return settings.SHOPIFY_BASE_URL_TEMPLATE.format(shop=shop).rstrip("/")


@register
class ShopifyProvider(Provider):
    key = "shopify"
    sandbox_credentials = frozenset({"shelfops-local-shopify-app", "shpss_shelfops_local_secret"})
    name = "Shopify"
    request_id_headers = ("x-shopify-request-id",)
    kind = "pos"
    connect_fields = (ConnectField("shop", "Shop address", "your-store.myshopify.com"),)
    # GraphQL Admin API cost bucket; Standard plan figures are only the starting guess, the real plan's
    # limits are learnt from extensions.cost.throttleStatus.
    rate_policy = RatePolicy(kind="shopify_graphql", rate=100.0, burst=2000.0)
    schedule_defaults = {"locations": 86400, "variants": 86400, "inventory": 900, "orders": 3600,
                         "reconcile_stock": 86400}  # the stock check (integrations.sync.reconcile), daily

    def oauth(self):
        from .oauth import ShopifyOAuth

        return ShopifyOAuth(self)

    def api_base_url(self, connection) -> str:
        return f"{shop_base_url(connection.external_account_id)}/admin/api/{settings.SHOPIFY_API_VERSION}"

    def streams(self) -> dict:
        from .streams import STREAMS

        return STREAMS

    def auth_headers(self, access_token: str) -> dict[str, str]:
        return {"X-Shopify-Access-Token": access_token}
