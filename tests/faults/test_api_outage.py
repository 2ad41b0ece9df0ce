"""The API answers a JSON 503 with ``Retry-After`` when PostgreSQL or Redis is down, never HTML and never 500
(issue 16). The outages are real: the request's database connection points at a port nothing listens on, and the
cache at a Redis that is not there, so the errors come from the drivers themselves."""

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from inventory.models import ApiToken

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

NOBODY_LISTENS = 15439  # inside issue 16's private port range; the fault suite's PostgreSQL never uses it


@pytest.fixture
def api(retailer):
    _token, key = ApiToken.issue(retailer, "forecasting")
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@contextmanager
def refused_database():
    """Every new database connection of this process is refused inside the block."""
    real = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = NOBODY_LISTENS
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real


@pytest.fixture
def database_down():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    with refused_database():
        yield


def assert_json_503(response):
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "service_unavailable" and body["status"] == 503
    assert "Traceback" not in response.content.decode() and "<html" not in response.content.decode().lower()
    return body


@pytest.mark.postgres
@pytest.mark.parametrize("path", ["/api/v1/stores/", "/api/v1/transactions/?page_size=5", "/api/v1/connections/"])
def test_database_down_gives_json_503_with_retry_after(api, database_down, path):
    body = assert_json_503(api.get(path))
    assert "database" in body["detail"]
    assert str(NOBODY_LISTENS) not in body["detail"]  # no host or port details leak to the client


@pytest.mark.postgres
def test_database_down_outside_drf_gives_a_readable_503_page(merchant_user, client):
    # The merchant portal (a Django view, not DRF) reads the session and the user from the database.
    client.raise_request_exception = False
    client.force_login(merchant_user)
    with refused_database():
        response = client.get("/portal/", HTTP_ACCEPT="text/html")
    assert response.status_code == 503, response.content[:300]
    assert int(response["Retry-After"]) > 0 and b"Temporarily unavailable" in response.content
    assert b"Traceback" not in response.content


def test_redis_down_the_throttle_fails_open(api, caplog):
    redis_nowhere = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                 "LOCATION": "redis://127.0.0.1:16398/0",
                                 "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    # Both the cache and REDIS_URL: a throttle may count through either (Django's cache or a direct client).
    with override_settings(CACHES=redis_nowhere, REDIS_URL="redis://127.0.0.1:16398/0"):
        from django.core.cache import caches

        caches._settings = None  # noqa: SLF001 - let the cache handler pick up the overridden CACHES
        try:
            caches["default"].close()
        except Exception:  # noqa: BLE001
            pass
        response = api.get("/api/v1/stores/")
    assert response.status_code == 200, response.content[:300]
    assert "serving the request unthrottled" in caplog.text  # the cache really was unreachable


def test_a_redis_outage_inside_a_view_answers_json_503(rf):
    import redis

    from inventory.api.errors import api_exception_handler

    request = rf.get("/api/v1/stores/")
    response = api_exception_handler(redis.exceptions.ConnectionError("Error 111 connecting"), {"request": request})
    response.accepted_renderer = None
    assert response.status_code == 503 and response["Retry-After"]
    assert response.data["code"] == "service_unavailable" and "redis" in response.data["detail"]
