"""The client's address, as both the audit trail and login throttling (django-axes) see it.

Behind the production proxy REMOTE_ADDR is the proxy, so the client is read from X-Forwarded-For, but only in
production mode: anywhere else the header comes straight from the client and would let anyone pick the address
they are throttled under. The proxy appends the address it saw, so the trusted entry is counted from the right
(``TRUSTED_PROXY_COUNT`` proxies in front of the app); entries further left are the client's own claims.
"""

import ipaddress

from django.conf import settings


def _valid(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def behind_proxy() -> bool:
    return getattr(settings, "SHELFOPS_ENV", "local") == "production"


def client_ip(request) -> str | None:
    if request is None:
        return None
    meta = request.META
    if behind_proxy():
        forwarded = [part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        count = max(1, getattr(settings, "TRUSTED_PROXY_COUNT", 1))
        if len(forwarded) >= count:
            address = _valid(forwarded[-count])
            if address:
                return address
    return _valid(meta.get("REMOTE_ADDR", "") or "")


def axes_client_ip(request, *args, **kwargs) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the same address the audit trail records."""
    return client_ip(request)
