from django.conf import settings

from ..base import Provider, RatePolicy
from ..registry import register
from .settings import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET


@register
class ShipBobProvider(Provider):
    key = "shipbob"
    name = "ShipBob"
    kind = "wms"
    sandbox_credentials = frozenset({LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET})
    # 150 requests per minute per user and application, sliding window (developer.shipbob.com "Rate limit");
    # 429 answers carry x-retry-after, every answer x-remaining-calls.
    rate_policy = RatePolicy(kind="sliding_window", rate=150.0, burst=150.0, extra={
        "window_seconds": 60.0, "remaining_header": "x-remaining-calls", "retry_after_header": "x-retry-after",
    })
    schedule_defaults = {"locations": 86400, "products": 86400, "inventory": 900, "shipments": 1800,
                         "reconcile_stock": 86400}  # the stock check (integrations.sync.reconcile), daily

    def oauth(self):
        from .oauth import ShipBobOAuth

        return ShipBobOAuth(self)

    def token_connect(self):
        from .token import ShipBobTokenConnect

        return ShipBobTokenConnect(self)

    def api_base_url(self, connection=None) -> str:
        return f"{settings.SHIPBOB_API_URL}/{settings.SHIPBOB_API_VERSION}"

    def streams(self) -> dict:
        from .streams import STREAMS

        return STREAMS
