"""Fixtures for the resilient client's tests: an injectable clock, both shared-state stores, connections."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Connection

ACCESS_TOKEN = "EAAAl-secret-access-token-7f3a9c"


class FakeClock:
    """Time that only moves when told to (or when the code under test sleeps), so nothing depends on the
    machine's speed. ``sleeps`` records every wait the code asked for."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def account_key():
    return f"test:{uuid.uuid4().hex}"


def _redis_store():
    from integrations.http.store.redis_store import RedisStore

    return RedisStore(os.environ["REDIS_URL"])


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, account_key):
    """Each specification runs against both shared stores: the database one and Redis (Lua). Modules using it
    mark themselves ``django_db(transaction=True)``: the threads need committed rows, not the test's transaction."""
    if request.param == "redis":
        store = _redis_store()
        yield store
        store.reset(account_key)
    else:
        from integrations.http.store.db_store import DatabaseStore

        yield DatabaseStore()


@pytest.fixture
def redis_store(account_key):
    store = _redis_store()
    yield store
    store.reset(account_key)


@pytest.fixture
def make_connection(retailer):
    def make(provider: str = "square", **fields) -> Connection:
        defaults = {
            "retailer": retailer,
            "provider": provider,
            "external_account_id": {
                "square": f"ML{uuid.uuid4().hex[:10]}",
                "shopify": f"t{uuid.uuid4().hex[:10]}.myshopify.com",
                "netsuite": f"{uuid.uuid4().int % 10**7}_SB1",
            }[provider],
            "status": Connection.Status.ACTIVE,
            "access_token": ACCESS_TOKEN,
            "refresh_token": "EQAAl-secret-refresh-token-1b2c",
            "token_expires_at": timezone.now() + timedelta(days=20),
        }
        defaults.update(fields)
        return Connection.objects.create(**defaults)

    return make


@pytest.fixture
def fast_settings(settings):
    """Small, deterministic knobs: few attempts, a low breaker threshold."""
    settings.HTTP_MAX_ATTEMPTS = 4
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.5
    settings.HTTP_BACKOFF_MAX_SECONDS = 8.0
    settings.HTTP_BREAKER_FAILURES = 3
    settings.HTTP_BREAKER_WINDOW_SECONDS = 60.0
    settings.HTTP_BREAKER_COOLDOWN_SECONDS = 30.0
    return settings


@pytest.fixture
def client_factory(clock, fast_settings):
    from integrations.http import client_for

    def make(connection, **kwargs):
        return client_for(connection, clock=clock, sleep=clock.sleep, **kwargs)

    return make
