"""20 concurrent workers on one expired token make exactly one refresh request.

Real PostgreSQL (row lock fallback) and real Redis (redis-py Lock); the provider is mocked with responses, which
counts the calls. The mock answers slowly so every worker is waiting on the lock while the first one refreshes.
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import responses
from django.db import connection as db_connection

from integrations.models import Connection
from integrations.oauth.tokens import fresh_access_token

from .conftest import make_connection

WORKERS = 20
SQUARE_TOKEN = "https://square.example.test/oauth2/token"


def run_workers(connection_pk: int, force: bool = False) -> list[str]:
    barrier = threading.Barrier(WORKERS)

    def worker(_):
        try:
            stale = Connection.objects.get(pk=connection_pk)  # each worker read the row before anyone refreshed
            barrier.wait()
            return fresh_access_token(stale, force=force)
        finally:
            db_connection.close()

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(worker, range(WORKERS)))


def slow_square_refresh(calls: list):
    lock = threading.Lock()

    def callback(request):
        with lock:
            calls.append(json.loads(request.body)["refresh_token"])
            n = len(calls)
        time.sleep(0.3)  # widen the window: the other workers pile up on the lock meanwhile
        return 200, {}, json.dumps({
            "access_token": f"at-new-{n}", "token_type": "bearer", "expires_at": "2099-01-01T00:00:00Z",
            "merchant_id": "MERCHANT-RACE", "refresh_token": f"rt-new-{n}"})

    return callback


@pytest.fixture
def expired(transactional_db, retailer, settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    return make_connection(retailer, account=f"MERCHANT-RACE-{time.monotonic_ns()}",
                           expires_in=timedelta(minutes=-1))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("lock", ["redis", "row"])
def test_twenty_workers_one_refresh_call(expired, settings, lock):
    if lock == "row":
        settings.REDIS_URL = ""  # the select_for_update fallback
    calls: list[str] = []
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, SQUARE_TOKEN, callback=slow_square_refresh(calls))
        tokens = run_workers(expired.pk)
    assert calls == ["rt-old-0001"]
    assert tokens == ["at-new-1"] * WORKERS
    stored = Connection.objects.get(pk=expired.pk)
    assert (stored.access_token, stored.refresh_token) == ("at-new-1", "rt-new-1")


@pytest.mark.postgres
@pytest.mark.redis
def test_twenty_workers_after_the_same_401_force_one_refresh(expired):
    Connection.objects.filter(pk=expired.pk).update(token_expires_at=expired.token_expires_at + timedelta(days=1))
    calls: list[str] = []
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, SQUARE_TOKEN, callback=slow_square_refresh(calls))
        tokens = run_workers(expired.pk, force=True)
    assert len(calls) == 1 and set(tokens) == {"at-new-1"}
