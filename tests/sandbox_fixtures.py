"""``sandbox_server``: the provider sandbox in-process, in a thread, on a free port, with the portal's settings
pointed at it for the test.

    def test_x(sandbox_server):
        sandbox_server.set_faults("square", fail_next=[503])
        sandbox_server.create_sale("square", items=[("SKU-000001", 2)])
        sandbox_server.counters()["max_in_flight"]["netsuite"]
"""

from __future__ import annotations

import pytest

from sandbox import changes
from sandbox.data import Sizes
from sandbox.server import SandboxServer
from sandbox.state import SandboxConfig


class SandboxHandle:
    def __init__(self, server: SandboxServer):
        self.server = server
        self.url = server.url
        self.state = server.state
        self.app = server.app

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    # --- faults, clock ---------------------------------------------------------------------------------------
    def set_faults(self, provider: str, **faults):
        return self.state.set_faults(provider, **faults)

    def clear_faults(self, provider: str | None = None):
        self.state.clear_faults(provider)

    def freeze_clock(self):
        self.state.freeze_clock()

    def advance_clock(self, seconds: float):
        self.state.advance_clock(seconds)

    def reset(self):
        self.state.reset()

    # --- data changes (emit webhooks) ------------------------------------------------------------------------
    def create_sale(self, provider: str, account: str | None = None, **kwargs) -> dict:
        return changes.create_sale(self.app, provider, account, **kwargs)

    def change_stock(self, provider: str, account: str | None = None, **kwargs) -> dict:
        return changes.change_stock(self.app, provider, account, **kwargs)

    def edit_product(self, provider: str, account: str | None = None, **kwargs) -> dict:
        return changes.edit_product(self.app, provider, account, **kwargs)

    def cancel_order(self, provider: str, account: str | None = None, **kwargs) -> dict:
        return changes.cancel_order(self.app, provider, account, **kwargs)

    def refund_order(self, provider: str, account: str | None = None, **kwargs) -> dict:
        return changes.refund_order(self.app, provider, account, **kwargs)

    def delete_location(self, provider: str, account: str | None = None, **kwargs) -> dict:
        return changes.delete_location(self.app, provider, account, **kwargs)

    def merchant(self, provider: str, account: str | None = None):
        return changes._merchant(self.app, provider, account)[1]

    def default_account(self, provider: str) -> str:
        return changes.default_account(self.state, provider)

    # --- webhooks ------------------------------------------------------------------------------------------
    def set_webhook_target(self, portal_base_url: str, square_notification_url: str | None = None):
        """Deliver webhooks to ``portal_base_url`` (e.g. pytest-django's live_server.url)."""
        self.config.portal_base_url = portal_base_url.rstrip("/")
        self.config.square_notification_url = (square_notification_url
                                                or f"{self.config.portal_base_url}/webhooks/square/")

    @property
    def square_webhook_url(self) -> str:
        return self.config.square_notification_url

    @property
    def shopify_webhook_url(self) -> str:
        return self.config.shopify_webhook_url

    def deliveries(self, provider: str | None = None) -> list[dict]:
        return [d for d in list(self.state.deliveries) if provider is None or d["provider"] == provider]

    # --- counters ------------------------------------------------------------------------------------------
    def counters(self) -> dict:
        return self.state.counters.snapshot()

    def max_in_flight(self, provider: str) -> int:
        return self.counters()["max_in_flight"].get(provider, 0)

    def token_calls(self, provider: str, grant_type: str | None = None) -> int:
        key = provider if grant_type is None else f"{provider}:{grant_type}"
        return self.counters()["token_calls"].get(key, 0)


@pytest.fixture
def sandbox_server(settings):
    """The sandbox on a free port, reset, with SANDBOX_URL and every provider base URL pointing at it."""
    config = SandboxConfig.from_django_settings(sizes=Sizes(), duplicate_webhook_probability=0.0,
                                                webhook_retry_scale=0.001)
    server = SandboxServer(config).start()
    url = server.url
    settings.SANDBOX_URL = url
    settings.SQUARE_BASE_URL = f"{url}/square"
    settings.SHOPIFY_BASE_URL_TEMPLATE = f"{url}/shopify/{{shop}}"
    settings.NETSUITE_APP_URL_TEMPLATE = f"{url}/netsuite/{{account_host}}/app"
    settings.NETSUITE_API_URL_TEMPLATE = f"{url}/netsuite/{{account_host}}/suitetalk"
    try:
        yield SandboxHandle(server)
    finally:
        server.stop()
