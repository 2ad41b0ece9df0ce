"""Per-token request throttling. Counts live in the default cache (Redis when REDIS_URL is set), so every
web worker shares one budget per token; DRF answers 429 with ``Retry-After``.

When the cache is unreachable the throttle fails open (the request is served, a warning logged): it is a fair-use
limit on already authenticated tokens, not a security control, and the data it guards lives in PostgreSQL, so a
Redis outage should not take the read API down with it (README "When a dependency is down")."""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from shelfops.outage import dependency_down

log = logging.getLogger(__name__)


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def get_rate(self):
        # Read at request time (DRF binds the rates at import), so a settings change takes effect at once.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - narrowed below: only an outage of the cache fails open
            if dependency_down(exc) != "redis" and not isinstance(exc, OSError):
                raise
            log.warning("API throttle cache unavailable (%s); serving the request unthrottled", type(exc).__name__)
            return True

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if token is None or not hasattr(token, "key_hash"):
            return None  # unauthenticated requests are rejected by authentication, not counted here
        # The key hash, not the row id: ids can be reused (SQLite after a rollback), hashes are unique.
        return self.cache_format % {"scope": self.scope, "ident": token.key_hash[:32]}
