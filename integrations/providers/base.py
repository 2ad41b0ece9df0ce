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
    kind (the generic kinds; a provider package may register its own, see ``integrations.http.limiters``):
      - ``token_bucket``: ``rate`` tokens per second, ``burst`` capacity (providers that publish a rate).
      - ``concurrency``: at most ``concurrency`` requests in flight per account, with a lease.
      - ``reactive``: no published numbers; slow the account down after a 429.
    """

    kind: str
    rate: float = 0.0
    burst: float = 0.0
    concurrency: int = 0
    lease_seconds: float = 900.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectField:
    """One input of a provider's connect card in the portal, sent as a query parameter to
    ``/integrations/<key>/connect/`` (the provider's OAuth flow validates it in ``clean_connect_input``)."""

    name: str
    label: str
    placeholder: str = ""
    required: bool = True


class Provider(ABC):
    key: str = ""
    name: str = ""
    kind: str = "pos"  # pos | erp | wms
    rate_policy: RatePolicy = RatePolicy(kind="reactive")
    # Streams this provider syncs and their default schedule interval in seconds (created on connect).
    schedule_defaults: dict[str, int] = {}
    # What the portal's connect card asks for before redirecting to the provider (e.g. the account's host name).
    # The first field names the external account: a reconnect link fills it with the connection's account id.
    connect_fields: tuple[ConnectField, ...] = ()

    # Response headers naming the provider's request id (call log), besides the generic X-Request-Id.
    request_id_headers: tuple[str, ...] = ()

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

    def reconnect_params(self, connection) -> dict[str, str]:
        """The connect card's query for reconnecting this connection (its account, when the card asks for it)."""
        return {self.connect_fields[0].name: connection.external_account_id} if self.connect_fields else {}

    def token_connect(self):
        """Portal hook for a pasted personal access token: an ``integrations.oauth.token_connect.TokenConnect``,
        or None (the default) when the provider connects through OAuth only."""
        return None

    def webhooks(self):
        """Webhook hook: this provider's ``integrations.webhooks.base.WebhookReceiver``, or None when it sends no
        webhooks. A provider with a receiver is routed at ``POST /webhooks/<key>/``. By default the ``receiver``
        of the package's ``webhooks`` module, if it has one (imported lazily, on the first delivery)."""
        from importlib import import_module

        package = type(self).__module__.rpartition(".")[0]
        name = f"{package}.webhooks"
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a broken import inside the module is a bug, not "no webhooks"
                raise
            return None
        return getattr(module, "receiver", None)

    def system_checks(self, *, production: bool) -> list:
        """Django system-check messages of this provider's own beyond the generic ones (environment,
        credentials, sandbox credentials: ``shelfops/checks.py``)."""
        return []

    def admin_form_fields(self) -> dict:
        """Extra fields (name -> ``django.forms.Field``) of the admin connection form for this provider's
        connections (e.g. a write-only key upload). Every provider's fields are on the form; each provider's
        ``clean_admin_form`` validates its own."""
        return {}

    def clean_admin_form(self, form, cleaned: dict) -> dict:
        """Validate the admin connection form when this provider is chosen (``form.add_error`` for problems).
        Returns attribute -> value to set on the connection when it is saved (e.g. an encrypted key). By default
        a provider has no client-credentials (M2M) connections."""
        if cleaned.get("auth_mode") == type(form.instance).AuthMode.CLIENT_CREDENTIALS:
            form.add_error("auth_mode", f"{self.name} has no client credentials (M2M) connections.")
        return {}

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
