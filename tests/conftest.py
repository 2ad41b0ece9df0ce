"""Shared fixtures. Tests that depend on PostgreSQL or Redis behaviour (locks, constraints under concurrency,
Lua scripts) are marked and skip with a reason on the embedded default; CI sets DATABASE_URL and REDIS_URL."""

import os

# The sandbox's Shopify schema is Shopify's published one in tests (fetched with npm when not cached), never the
# fallback slice `make run` uses without npm: set before anything imports sandbox.shopify.schema.
os.environ.setdefault("SHELFOPS_SHOPIFY_SCHEMA", "published")

import pytest  # noqa: E402
from django.conf import settings
from django.contrib.auth import get_user_model

from inventory.models import MerchantUser, Retailer

pytest_plugins = ["tests.browser", "tests.sandbox_fixtures"]


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture
def retailer(db):
    return Retailer.objects.create(name="Acme Retail", slug="acme")


@pytest.fixture
def other_retailer(db):
    return Retailer.objects.create(name="Rival Retail", slug="rival")


@pytest.fixture
def merchant_user(retailer):
    user = get_user_model().objects.create_user("acme-merchant", password="pw-acme-merchant-1")
    MerchantUser.objects.create(user=user, retailer=retailer)
    return user


@pytest.fixture
def other_merchant_user(other_retailer):
    user = get_user_model().objects.create_user("rival-merchant", password="pw-rival-merchant-1")
    MerchantUser.objects.create(user=user, retailer=other_retailer)
    return user


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker process on the test database and the configured broker."""
    from integrations.webhooks.dispatch import clear_wake_flag
    from shelfops.celery import app

    from .processes import CeleryWorker

    app.control.purge()
    clear_wake_flag()  # a webhook wake-up whose message was just purged would hold back the next delivery
    worker = CeleryWorker().start()
    try:
        yield worker
    finally:
        worker.stop()
