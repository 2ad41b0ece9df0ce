"""The one resilient provider client (see docs/seams.md and client.py's retry matrix)."""

from __future__ import annotations


def client_for(connection, **kwargs):
    """The client bound to a Connection: its provider's base URL, auth, budget, breaker and call log."""
    from integrations.providers.registry import get_provider

    from .client import ProviderClient

    provider = get_provider(connection.provider)
    return ProviderClient(provider, provider.api_base_url(connection), provider.account_key(connection),
                          connection=connection, **kwargs)


def app_client(provider_key: str, base_url: str, account_key: str | None = None, **kwargs):
    """A client for the provider *app*'s own calls (OAuth token, revoke, token status): no Connection, no token
    injection (the caller passes its client-auth headers, which are never logged). Budget and breaker are keyed
    by ``account_key`` (the external account, when known) so one merchant's failures do not trip another's."""
    from integrations.providers.base import RatePolicy
    from integrations.providers.registry import get_provider

    from .client import ProviderClient

    provider = get_provider(provider_key)
    key = f"{provider_key}:oauth:{account_key or 'app'}"
    # Token endpoints have their own (unpublished) limits: react to 429s only.
    policy = RatePolicy(kind="reactive", rate=provider.rate_policy.rate or 5.0,
                        burst=provider.rate_policy.burst or 10.0)
    return ProviderClient(provider, base_url, key, rate_policy=policy, **kwargs)


__all__ = ["app_client", "client_for"]
