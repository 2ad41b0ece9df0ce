"""The per-connection refresh lock.

With Redis (``REDIS_URL``) it is a redis-py ``Lock`` (token-checked release, expiry so a crashed holder cannot
block refreshes forever). Without Redis it is ``SELECT ... FOR UPDATE`` on the connection row inside a
transaction (PostgreSQL row lock; on SQLite the IMMEDIATE transaction serialises writers the same way).
Either way the caller must re-read the row after taking the lock: whoever waited may find the work done.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from redis.exceptions import LockError

from shelfops.redis_client import get_redis

LOCK_TIMEOUT = 60  # seconds a holder may keep the Redis lock (a refresh call is bounded well below this)
WAIT_TIMEOUT = 45  # seconds a waiter blocks before giving up


class RefreshLockTimeout(Exception):
    pass


@contextmanager
def connection_lock(connection_id: int):
    if settings.REDIS_URL:
        lock = get_redis().lock(
            f"shelfops:oauth:refresh:{connection_id}", timeout=LOCK_TIMEOUT, blocking_timeout=WAIT_TIMEOUT
        )
        if not lock.acquire():
            raise RefreshLockTimeout(f"refresh lock for connection {connection_id} not acquired")
        try:
            yield
        finally:
            try:
                lock.release()
            except LockError:  # expired under us (holder exceeded LOCK_TIMEOUT): nothing left to release
                pass
    else:
        from integrations.models import Connection

        with transaction.atomic():
            # NO KEY: a plain FOR UPDATE would also block every INSERT naming this connection (a webhook event's
            # foreign key takes a KEY SHARE lock on it), so acknowledging its webhooks would wait for the refresh.
            Connection.objects.select_for_update(no_key=True).filter(pk=connection_id).values_list(
                "pk", flat=True
            ).first()
            yield
