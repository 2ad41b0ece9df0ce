from django.conf import settings

from ..base import Provider, RatePolicy
from ..registry import register


@register
class SquareProvider(Provider):
    key = "square"
    credential_settings = ("CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_SIGNATURE_KEY")
    sandbox_credentials = frozenset(
        {"sq0idp-shelfops-local", "sq0csp-shelfops-local-secret", "shelfops-local-square-signature-key"}
    )
    name = "Square"
    request_id_headers = ("square-request-id",)
    kind = "pos"
    # Square publishes no numeric limits: react to 429 RATE_LIMITED and slow the whole account down.
    rate_policy = RatePolicy(kind="reactive", rate=10.0, burst=20.0)
    schedule_defaults = {"locations": 86400, "catalog": 86400, "inventory": 900, "orders": 3600,
                         "reconcile_stock": 86400}  # the stock check (integrations.sync.reconcile), daily

    def oauth(self):
        from .oauth import SquareOAuth

        return SquareOAuth(self)

    def api_base_url(self, connection=None) -> str:
        return settings.SQUARE_BASE_URL

    def streams(self) -> dict:
        from .streams import STREAMS

        return STREAMS

    def default_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "Square-Version": settings.SQUARE_API_VERSION}
