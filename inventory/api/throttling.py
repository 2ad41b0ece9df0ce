"""Per-token request throttling, shared by every web worker; DRF answers 429 with ``Retry-After``.

With Redis (production) the budget is a sliding-window counter: two integer keys per token (this window and the
last, weighted by how much of it still overlaps) read and counted in one pipelined round trip. DRF's own
``SimpleRateThrottle`` keeps the timestamp of every request of the window in one cache entry that it reads and
writes back whole on each request: at the default 6,000/min that is a list of thousands of floats pickled both
ways per request, which cost more than the rest of a 100-row page. Without Redis (the embedded default) DRF's
throttle over the file cache is kept.

When the cache is unreachable the throttle fails open (the request is served, a warning logged): it is a fair-use
limit on already authenticated tokens, not a security control, and the data it guards lives in PostgreSQL, so a
Redis outage should not take the read API down with it (README "When a dependency is down")."""

import logging
import math
import time

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from shelfops.outage import dependency_down
from shelfops.redis_client import get_redis

log = logging.getLogger(__name__)


class SlidingWindowRateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view):
        if not getattr(settings, "REDIS_URL", None):
            return super().allow_request(request, view)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        current, previous = f"{self.key}:w{window}", f"{self.key}:w{window - 1}"
        pipe = get_redis().pipeline(transaction=False)
        pipe.incr(current)
        pipe.expire(current, 2 * self.duration)
        pipe.get(previous)
        count, _, before = pipe.execute()
        elapsed = now - window * self.duration
        overlap = 1 - elapsed / self.duration  # share of the previous window still inside the sliding one
        before = int(before or 0)
        if before * overlap + count <= self.num_requests:
            return True
        # Until enough of the previous window has slid out (or, if this window alone is over, until it ends).
        if count <= self.num_requests and before:
            self._wait = self.duration * (1 - (self.num_requests - count) / before) - elapsed
        else:
            self._wait = self.duration - elapsed
        return False

    def wait(self):
        if not getattr(settings, "REDIS_URL", None):
            return super().wait()
        return max(1, math.ceil(getattr(self, "_wait", 1)))


class ApiTokenRateThrottle(SlidingWindowRateThrottle):
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
