"""Circuit breaker per provider account: closed -> open -> half-open -> closed, and half-open -> open. State is
shared through the store (both stores run these), opening alerts staff and shows in the connection admin."""

from __future__ import annotations

import logging

import pytest
import responses
from django.conf import settings
from django.core import mail

from integrations.http import config
from integrations.http.breaker import CircuitBreaker
from integrations.http.errors import CircuitOpen, ProviderError, ProviderUnavailable

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def breaker(store, account_key, clock, fast_settings):
    return CircuitBreaker(store, account_key, clock=clock, config=config.load(), provider="square")


@pytest.fixture
def alerts():
    """Captures the shelfops.alerts logger (it does not propagate to the root logger caplog listens on)."""
    records: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Catch(level=logging.ERROR)
    logger = logging.getLogger("shelfops.alerts")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_full_cycle_closed_open_half_open_closed(breaker, clock, alerts, settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    assert breaker.before_call() == "allow"
    breaker.record_failure("HTTP 503")
    breaker.record_failure("HTTP 503")
    assert breaker.state()["state"] == "closed" and breaker.state()["failures"] == 2
    breaker.record_failure("timeout")  # third failure within the window: open
    assert breaker.state()["state"] == "open"
    with pytest.raises(CircuitOpen) as err:
        breaker.before_call()
    assert err.value.retry_after == pytest.approx(30.0)
    # Opening alerted once: an ERROR on shelfops.alerts, mailed to ADMINS by the AdminEmailHandler.
    assert len(alerts) == 1 and "Circuit breaker OPEN" in alerts[0].getMessage()
    assert len(mail.outbox) == 1 and "Circuit breaker OPEN" in mail.outbox[0].subject
    assert mail.outbox[0].to == ["ops@example.com"]

    clock.advance(30.0)  # cool-down over: exactly one probe goes through
    assert breaker.before_call() == "probe"
    assert breaker.state()["state"] == "half_open"
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # a second caller while the probe is in flight
    breaker.record_success()
    assert breaker.state() == {"state": "closed", "failures": 0}
    assert breaker.before_call() == "allow"


def test_failed_probe_reopens(breaker, clock, alerts):
    for _ in range(3):
        breaker.record_failure("HTTP 500")
    clock.advance(31.0)
    assert breaker.before_call() == "probe"
    breaker.record_failure("HTTP 500")
    state = breaker.state()
    assert state["state"] == "open" and state["opened_at"] == clock.now
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    assert len(alerts) == 2  # the re-opening alerts again


def test_failures_outside_the_window_do_not_add_up(breaker, clock):
    breaker.record_failure("HTTP 500")
    breaker.record_failure("HTTP 500")
    clock.advance(61.0)
    breaker.record_failure("HTTP 500")
    assert breaker.state()["state"] == "closed"


def test_a_probe_that_never_reports_back_is_replaced(breaker, clock):
    for _ in range(3):
        breaker.record_failure("HTTP 500")
    clock.advance(30.0)
    assert breaker.before_call() == "probe"  # ... and that worker dies
    clock.advance(config.load().probe_timeout + 1)
    assert breaker.before_call() == "probe"


def test_state_is_shared_by_every_client_of_the_account(store, account_key, clock, fast_settings):
    first = CircuitBreaker(store, account_key, clock=clock, config=config.load())
    second = CircuitBreaker(store, account_key, clock=clock, config=config.load())
    for _ in range(3):
        first.record_failure("HTTP 502")
    with pytest.raises(CircuitOpen):
        second.before_call()


def square_url(path):
    return f"{settings.SQUARE_BASE_URL}{path}"


@responses.activate
def test_client_4xx_do_not_count_but_5xx_open_the_breaker(make_connection, client_factory):
    conn = make_connection()
    client = client_factory(conn)
    responses.get(square_url("/v2/catalog/object/X"), status=404,
                  json={"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND"}]})
    for _ in range(5):
        with pytest.raises(ProviderError):
            client.get("/v2/catalog/object/X")
    assert client.breaker.state()["state"] == "closed" and client.breaker.state()["failures"] == 0
    responses.get(square_url("/v2/locations"), status=503)
    with pytest.raises(CircuitOpen):
        client.get("/v2/locations")  # 3 failed attempts open it; the 4th attempt is rejected unsent
    calls_before = len(responses.calls)
    with pytest.raises(ProviderUnavailable):
        client_factory(conn).get("/v2/locations")  # another worker: rejected too, nothing sent
    assert len(responses.calls) == calls_before


@responses.activate
def test_open_breaker_shows_on_the_connection_in_admin(make_connection, client_factory, admin_client):
    conn = make_connection()
    client = client_factory(conn)
    for _ in range(3):
        client.breaker.record_failure("HTTP 500")
    page = admin_client.get(f"/admin/integrations/connection/{conn.pk}/change/")
    assert page.status_code == 200
    assert b"circuit breaker" in page.content.lower() and b"OPEN since" in page.content
    listing = admin_client.get("/admin/integrations/connection/")
    assert listing.status_code == 200 and b"OPEN since" in listing.content


# --- failure rate (issue 15) ---------------------------------------------------------------------------------
def test_a_15_percent_failure_rate_never_opens_it_but_an_outage_does(breaker, clock):
    # 200 calls over 100 s: every 7th fails (~14%), well over the 3-failure count within each 60 s window.
    for n in range(200):
        clock.advance(0.5)
        if n % 7 == 0:
            breaker.record_failure("HTTP 503")
        else:
            breaker.record_success()
        breaker.before_call()  # never raises CircuitOpen
    assert breaker.state()["state"] == "closed"
    for _ in range(3):  # now the provider is down: every call fails
        clock.advance(0.5)
        breaker.record_failure("HTTP 503")
    # Three more failures are not yet half of the calls counted in the window; an outage keeps failing.
    for _ in range(200):
        if breaker.state()["state"] == "open":
            break
        clock.advance(0.5)
        breaker.record_failure("HTTP 503")
    assert breaker.state()["state"] == "open"
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_without_recent_successes_the_count_alone_opens_it(breaker, clock):
    for _ in range(3):
        breaker.record_failure("timeout")
    assert breaker.state()["state"] == "open"
