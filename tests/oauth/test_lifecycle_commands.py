"""``manage.py refresh_tokens``: refreshes what is due (or --all / --ids), reports per connection and in totals,
never prints a token, and a provider that refuses or fails one connection is reported without stopping the rest.
Provider token endpoints are mocked with ``responses``."""

from datetime import timedelta
from io import StringIO

import pytest
import responses
from django.core.management import CommandError, call_command

from integrations.models import Connection

from .conftest import make_connection

pytestmark = pytest.mark.django_db

SQUARE_TOKEN = "https://square.example.test/oauth2/token"


def shopify_token(shop: str) -> str:
    return f"https://{shop}/admin/oauth/access_token"


def shopify_answer(n: int) -> dict:
    return {"access_token": f"shpat_new_{n:04d}", "scope": "read_products", "expires_in": 3600,
            "refresh_token": f"shprt_new_{n:04d}", "refresh_token_expires_in": 7776000}


def square_answer(n: int) -> dict:
    return {"access_token": f"EAAA-new-{n:04d}", "token_type": "bearer", "expires_at": "2099-01-01T00:00:00Z",
            "merchant_id": "M", "refresh_token": f"EQAA-new-{n:04d}"}


@pytest.fixture(autouse=True)
def fast_client(settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0


def run(*args) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("refresh_tokens", *args, stdout=out, stderr=out)
    except CommandError as exc:
        return out.getvalue() + str(exc), exc
    return out.getvalue(), None


def secrets_of(*connections) -> list[str]:
    values = []
    for c in connections:
        c = Connection.objects.get(pk=c.pk)
        values += [c.access_token, c.refresh_token]
    return [v for v in values if v]


@responses.activate
def test_default_refreshes_only_due_connections_and_prints_no_token(retailer):
    due = make_connection(retailer, "shopify", "due.myshopify.com", expires_in=timedelta(minutes=10),
                          access="shpat_old_due", refresh="shprt_old_due")
    fresh = make_connection(retailer, "shopify", "fresh.myshopify.com", expires_in=timedelta(minutes=50),
                            access="shpat_old_fresh", refresh="shprt_old_fresh")
    square_fresh = make_connection(retailer, account="SQ-FRESH", expires_in=timedelta(days=29))
    responses.post(shopify_token("due.myshopify.com"), json=shopify_answer(1))

    out, error = run()

    assert error is None
    assert [c.request.url for c in responses.calls] == [shopify_token("due.myshopify.com")]
    assert "shopify:due.myshopify.com" in out and "fresh" not in out.replace("refreshed", "")
    assert out.strip().splitlines()[-1] == "refreshed: 1, not needed: 0, failed: 0"
    stored = Connection.objects.get(pk=due.pk)
    assert (stored.access_token, stored.refresh_token) == ("shpat_new_0001", "shprt_new_0001")
    assert Connection.objects.get(pk=fresh.pk).access_token == "shpat_old_fresh"
    for secret in secrets_of(due, fresh, square_fresh) + ["shpat_old_due", "shprt_old_due"]:
        assert secret not in out


@responses.activate
def test_all_forces_every_active_connection_with_a_refresh_token(retailer):
    a = make_connection(retailer, account="SQ-A", expires_in=timedelta(days=29), access="EAAA-old-a")
    b = make_connection(retailer, "shopify", "b.myshopify.com", expires_in=timedelta(minutes=55))
    make_connection(retailer, account="SQ-GONE", status=Connection.Status.DISCONNECTED)
    make_connection(retailer, account="SQ-BROKEN", status=Connection.Status.NEEDS_RECONNECT)
    make_connection(retailer, account="SQ-NOREFRESH", refresh=None, expires_in=None)
    responses.post(SQUARE_TOKEN, json=square_answer(1))
    responses.post(shopify_token("b.myshopify.com"), json=shopify_answer(2))

    out, error = run("--all")

    assert error is None
    assert len(responses.calls) == 2
    assert out.strip().splitlines()[-1] == "refreshed: 2, not needed: 0, failed: 0"
    assert Connection.objects.get(pk=a.pk).access_token == "EAAA-new-0001"
    assert Connection.objects.get(pk=b.pk).access_token == "shpat_new_0002"
    for secret in secrets_of(a, b) + ["EAAA-old-a", "rt-old-0001", "at-old-0001"]:
        assert secret not in out


@responses.activate
def test_a_refused_refresh_is_reported_per_connection_and_the_rest_still_run(retailer):
    dead = make_connection(retailer, "shopify", "dead.myshopify.com", expires_in=timedelta(minutes=-1),
                           access="shpat_old_dead", refresh="shprt_old_dead")
    ok = make_connection(retailer, account="SQ-OK", expires_in=timedelta(days=10))
    responses.post(shopify_token("dead.myshopify.com"), status=400,
                   json={"error": "invalid_grant", "error_description": "The refresh token is invalid."})
    responses.post(SQUARE_TOKEN, json=square_answer(3))

    out, error = run("--ids", str(dead.pk), str(ok.pk))

    assert isinstance(error, CommandError) and "1 connection(s) could not be refreshed" in str(error)
    assert "shopify:dead.myshopify.com" in out and "failed (needs_reconnect)" in out
    assert "refreshed: 1, not needed: 0, failed: 1" in out
    assert Connection.objects.get(pk=dead.pk).status == Connection.Status.NEEDS_RECONNECT
    assert Connection.objects.get(pk=ok.pk).access_token == "EAAA-new-0003"
    for secret in secrets_of(dead, ok) + ["shprt_old_dead", "shpat_old_dead"]:
        assert secret not in out


@responses.activate
def test_provider_down_while_the_token_still_works_is_reported_as_failed_not_as_not_needed(retailer):
    # --all forces a refresh of a token with days left: the provider's 503 must not read as "not needed".
    connection = make_connection(retailer, account="SQ-DOWN", expires_in=timedelta(days=20))
    responses.post(SQUARE_TOKEN, status=503, json={"errors": [{"code": "SERVICE_UNAVAILABLE"}]})

    out, error = run("--all")

    assert error is not None
    assert "square:SQ-DOWN" in out and "failed" in out and "HTTP 503" in out
    assert "refreshed: 0, not needed: 0, failed: 1" in out
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.ACTIVE and stored.refresh_failures == 1
    assert stored.access_token == "at-old-0001"  # the still-valid token is kept
    assert "at-old-0001" not in out and "rt-old-0001" not in out


@responses.activate
def test_a_token_answer_without_access_token_is_a_reported_failure_not_a_crash(retailer):
    broken = make_connection(retailer, "shopify", "broken.myshopify.com", expires_in=timedelta(minutes=-1))
    ok = make_connection(retailer, "shopify", "fine.myshopify.com", expires_in=timedelta(minutes=-1))
    responses.post(shopify_token("broken.myshopify.com"), json={"scope": "read_products"})
    responses.post(shopify_token("fine.myshopify.com"), json=shopify_answer(4))

    out, error = run("--ids", str(broken.pk), str(ok.pk))

    assert error is not None and "1 connection(s) could not be refreshed" in str(error)
    assert "shopify:broken.myshopify.com" in out and "failed" in out
    assert "refreshed: 1, not needed: 0, failed: 1" in out
    stored = Connection.objects.get(pk=broken.pk)
    assert stored.refresh_failures == 1 and stored.last_refresh_error
    assert Connection.objects.get(pk=ok.pk).access_token == "shpat_new_0004"


def test_unknown_ids_are_refused_before_any_call(retailer):
    known = make_connection(retailer, account="SQ-KNOWN")
    with responses.RequestsMock():  # any provider call would fail the test
        with pytest.raises(CommandError, match="unknown connection id"):
            call_command("refresh_tokens", "--ids", str(known.pk), "999999", stdout=StringIO())


@responses.activate
def test_nothing_due_prints_zero_counts(retailer):
    make_connection(retailer, account="SQ-IDLE", expires_in=timedelta(days=29))
    out, error = run()
    assert error is None and len(responses.calls) == 0
    assert out.strip() == "refreshed: 0, not needed: 0, failed: 0"
