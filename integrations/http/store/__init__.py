"""Where budgets, concurrency slots and breakers are shared: Redis when ``REDIS_URL`` is set, else the database."""

from __future__ import annotations

import os
import threading

from django.conf import settings

_stores: dict[tuple[int, str], object] = {}
_lock = threading.Lock()


def get_store():
    """The process-wide store for the current settings (one Redis connection pool per process and URL)."""
    url = settings.REDIS_URL
    cache_key = (os.getpid(), url)  # a forked worker must not share its parent's sockets
    with _lock:
        store = _stores.get(cache_key)
        if store is None:
            if url:
                from .redis_store import RedisStore

                store = RedisStore(url)
            else:
                from .db_store import DatabaseStore

                store = DatabaseStore()
            _stores[cache_key] = store
        return store
