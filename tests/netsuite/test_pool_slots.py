"""NetSuite's pool is a distributed semaphore: slots must come back after every call, on both shared stores
(the database store once kept released slots until their 15-minute lease ran out)."""

from __future__ import annotations

import uuid

import pytest


@pytest.mark.django_db(transaction=True)
def test_database_store_releases_slots():
    from integrations.http.store.db_store import DatabaseStore

    store, key = DatabaseStore(), f"netsuite:test-{uuid.uuid4().hex}"
    for round_ in range(3):  # more acquisitions than the limit: only possible if releases stick
        holders = [f"h{round_}-{i}" for i in range(2)]
        for holder in holders:
            assert store.slot_acquire(key, holder=holder, now=1000.0, lease=900.0, limit=2).granted
        assert not store.slot_acquire(key, holder="extra", now=1000.0, lease=900.0, limit=2).granted
        for holder in holders:
            store.slot_release(key, holder=holder)
        assert store.slots_in_use(key, now=1000.0) == 0


def test_provider_default_pool_comes_from_settings_and_connections_can_raise_it(settings):
    from integrations.http.limiters import effective_policy
    from integrations.providers import get_provider

    settings.NETSUITE_DEFAULT_CONCURRENCY = 7
    policy = get_provider("netsuite").rate_policy
    assert (policy.kind, policy.concurrency) == ("concurrency", 7)
    assert effective_policy(policy, "rest", {"concurrency": 25})[0].concurrency == 25
