"""Per-token request throttling. Counts live in the default cache (Redis when REDIS_URL is set), so every
web worker shares one budget per token; DRF answers 429 with ``Retry-After``."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def get_rate(self):
        # Read at request time (DRF binds the rates at import), so a settings change takes effect at once.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if token is None or not hasattr(token, "key_hash"):
            return None  # unauthenticated requests are rejected by authentication, not counted here
        # The key hash, not the row id: ids can be reused (SQLite after a rollback), hashes are unique.
        return self.cache_format % {"scope": self.scope, "ident": token.key_hash[:32]}
