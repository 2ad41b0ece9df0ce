"""The provider descriptor: what the shared machinery (HTTP client, OAuth, webhooks, sync) needs to know about
one provider. Providers subclass it and override hooks; the shared code never branches on a provider key."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RatePolicy:
    """How a provider's budget works, read by ``integrations.http``'s limiters.

    kind:
      - ``token_bucket``: ``rate`` tokens per second, ``burst`` capacity (providers that publish a rate).
      - ``shopify_rest``: leaky bucket of ``burst`` requests leaking ``rate``/s, corrected from
        ``X-Shopify-Shop-Api-Call-Limit``.
      - ``shopify_graphql``: cost bucket (``burst`` points restoring ``rate``/s), learnt from ``throttleStatus``.
      - ``concurrency``: at most ``concurrency`` requests in flight per account (NetSuite), with a lease.
      - ``reactive``: no published numbers (Square); slow the account down after a 429.
    """

    kind: str
    rate: float = 0.0
    burst: float = 0.0
    concurrency: int = 0
    lease_seconds: float = 900.0
    extra: dict[str, Any] = field(default_factory=dict)


class Provider(ABC):
    key: str = ""
    name: str = ""
    kind: str = "pos"  # pos | erp | wms
    rate_policy: RatePolicy = RatePolicy(kind="reactive")
    # Streams this provider syncs and their default schedule interval in seconds (created on connect).
    schedule_defaults: dict[str, int] = {}
    # The form field the connect page asks for before redirecting (Shopify "shop", NetSuite "account").
    connect_input: str | None = None

    # Settings this provider reads: <PREFIX>_ENVIRONMENT and <PREFIX>_<credential> (empty prefix = key upper-cased).
    settings_prefix: str = ""
    credential_settings: tuple[str, ...] = ("CLIENT_ID", "CLIENT_SECRET")
    # The credentials the local sandbox registers for this provider (the settings' "local" defaults): production
    # mode refuses them, since anyone can read them in this repository.
    sandbox_credentials: frozenset[str] = frozenset()

    def setting_name(self, suffix: str) -> str:
        return f"{self.settings_prefix or self.key.upper()}_{suffix}"

    def credentials(self) -> dict[str, str]:
        """Setting name -> configured value (read at call time, so tests can override settings)."""
        from django.conf import settings

        return {name: getattr(settings, name, "") or ""
                for name in (self.setting_name(s) for s in self.credential_settings)}

    def is_configured(self) -> bool:
        """A provider without credentials is simply not offered (no connect button, no connect URL)."""
        return all(self.credentials().values())

    @abstractmethod
    def api_base_url(self, connection) -> str:
        """Base URL of the provider's API for this connection (settings decide: real host or local sandbox)."""

    def oauth(self):
        """Connect hook: this provider's ``integrations.oauth.base.OAuthFlow`` (a shared base that providers
        configure and override), or None when it is not connected through OAuth. Imported lazily."""
        return None

    def token_connect(self):
        """Connect hook for a pasted personal access token: an ``integrations.oauth.token_connect.TokenConnect``,
        or None when the provider takes none (contract item 4)."""
        return None

    def auth_headers(self, access_token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token}"}

    def default_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    def streams(self) -> dict:
        """Sync hook: stream name -> ``integrations.sync.streams.Stream`` subclass (names as in
        ``schedule_defaults``). Providers import their ``streams`` module lazily here, so loading the registry
        stays cheap."""
        return {}

    def account_key(self, connection) -> str:
        """The key rate budgets and circuit breakers are shared under."""
        return f"{self.key}:{connection.external_account_id}"

    def __repr__(self) -> str:
        return f"<Provider {self.key}>"
