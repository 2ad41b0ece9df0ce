"""One redis-py client per process and URL, for the code that talks to Redis directly (locks, the webhook wake
flag). Django's own Redis cache builds a new client object on every call, which costs more than the command itself
on a hot path; a client here is built once and shares its connection pool across threads."""

from __future__ import annotations

import threading

from django.conf import settings

_clients: dict[str, object] = {}
_lock = threading.Lock()


def get_redis(url: str | None = None):
    import redis

    url = url or settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                # A refused or unreachable Redis fails fast instead of holding a web request.
                client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
    return client
