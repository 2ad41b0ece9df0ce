"""Beat tasks of the OAuth area: ``refresh_expiring_tokens`` refreshes only connections inside their provider's
lead time (Shopify/NetSuite 60-minute tokens: 15 minutes ahead; Square 30-day tokens: every 7 days) and skips
disconnected / needs_reconnect ones; ``prune_oauth_sessions`` drops long-expired connect attempts and keeps live
ones. Unit tests run the fan-out eagerly with the token endpoints mocked by ``responses``; the e2e test runs it
through a real Celery worker process against the sandbox."""

from datetime import timedelta

import pytest
import responses
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from integrations.models import Connection, OAuthSession
from integrations.oauth.tasks import prune_oauth_sessions, refresh_connection_token, refresh_expiring_tokens
from shelfops.celery import app

from .conftest import make_connection

SQUARE_TOKEN = "https://square.example.test/oauth2/token"


def netsuite_token(host: str) -> str:
    return f"https://{host}.suitetalk.netsuite.example.test/services/rest/auth/oauth2/v1/token"


def shopify_token(shop: str) -> str:
    return f"https://{shop}/admin/oauth/access_token"


@pytest.fixture
def eager(settings):
    """Run the per-connection tasks the beat task queues inline (real Celery dispatch, no broker)."""
    settings.HTTP_MAX_ATTEMPTS = 1
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.django_db
@responses.activate
def test_only_due_connections_are_refreshed_and_broken_or_disconnected_ones_skipped(retailer, eager):
    due = [
        make_connection(retailer, "shopify", "due.myshopify.com", expires_in=timedelta(minutes=10)),
        make_connection(retailer, "netsuite", "1234567_SB1", expires_in=timedelta(minutes=14)),
        # Square: a 30-day token issued 8 days ago is past the 7-day cadence.
        make_connection(retailer, account="SQ-DUE", expires_in=timedelta(days=22)),
    ]
    not_due = [
        make_connection(retailer, "shopify", "fresh.myshopify.com", expires_in=timedelta(minutes=50)),
        make_connection(retailer, "netsuite", "7654321", expires_in=timedelta(minutes=45)),
        make_connection(retailer, account="SQ-FRESH", expires_in=timedelta(days=29)),
        make_connection(retailer, account="SQ-FOREVER", expires_in=None),
        make_connection(retailer, "shopify", "broken.myshopify.com", expires_in=timedelta(minutes=-5),
                        status=Connection.Status.NEEDS_RECONNECT),
        make_connection(retailer, "shopify", "gone.myshopify.com", expires_in=timedelta(minutes=-5),
                        status=Connection.Status.DISCONNECTED),
        make_connection(retailer, account="SQ-NOREFRESH", expires_in=timedelta(days=1), refresh=None),
    ]
    # Only the due endpoints are registered: a call for any other connection fails the test (ConnectionError).
    responses.post(shopify_token("due.myshopify.com"), json={
        "access_token": "shpat_new", "scope": "read_products", "expires_in": 3600, "refresh_token": "shprt_new"})
    responses.post(netsuite_token("1234567-sb1"), json={"access_token": "ns-new", "expires_in": "3600"})
    responses.post(SQUARE_TOKEN, json={"access_token": "EAAA-new", "expires_at": "2099-01-01T00:00:00Z",
                                       "merchant_id": "SQ-DUE", "refresh_token": "EQAA-new"})

    assert refresh_expiring_tokens() == 3

    assert len(responses.calls) == 3
    assert [Connection.objects.get(pk=c.pk).access_token for c in due] == ["shpat_new", "ns-new", "EAAA-new"]
    for connection in not_due:
        stored = Connection.objects.get(pk=connection.pk)
        assert stored.access_token == "at-old-0001" and stored.last_refresh_at is None
    # Refreshed tokens are outside the lead time again: the next beat run finds nothing to do.
    assert refresh_expiring_tokens() == 0


@pytest.mark.django_db
def test_square_is_due_seven_days_after_issue_not_before(retailer):
    from integrations.oauth.tokens import due_for_refresh

    six_days_old = make_connection(retailer, account="SQ-6D", expires_in=timedelta(days=24))
    just_under_23_days_left = make_connection(retailer, account="SQ-7D", expires_in=timedelta(days=23, minutes=-1))
    assert due_for_refresh() == [just_under_23_days_left.pk]
    assert six_days_old.pk not in due_for_refresh()


@pytest.mark.django_db
@responses.activate
def test_per_connection_task_skips_what_must_not_refresh_and_reports_a_dead_grant(retailer, eager):
    gone = make_connection(retailer, account="SQ-GONE", status=Connection.Status.DISCONNECTED,
                           expires_in=timedelta(minutes=-1))
    broken = make_connection(retailer, account="SQ-BROKEN", status=Connection.Status.NEEDS_RECONNECT,
                             expires_in=timedelta(minutes=-1))
    assert refresh_connection_token(gone.pk) == "skipped"
    assert refresh_connection_token(broken.pk) == "skipped"
    assert refresh_connection_token(999999) == "skipped"
    assert len(responses.calls) == 0

    dead = make_connection(retailer, account="SQ-DEAD", expires_in=timedelta(minutes=-1))
    responses.post(SQUARE_TOKEN, status=401, json={"errors": [{"code": "UNAUTHORIZED"}]})
    assert refresh_connection_token(dead.pk) == Connection.Status.NEEDS_RECONNECT
    assert Connection.objects.get(pk=dead.pk).status == Connection.Status.NEEDS_RECONNECT


@pytest.mark.django_db
@responses.activate
def test_a_malformed_token_answer_is_recorded_not_raised(retailer, eager):
    connection = make_connection(retailer, "shopify", "odd.myshopify.com", expires_in=timedelta(minutes=-1))
    responses.post(shopify_token("odd.myshopify.com"), body="<html>maintenance</html>", status=200)
    assert refresh_connection_token(connection.pk) == Connection.Status.ACTIVE  # failure 1 of 3: retried later
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.refresh_failures == 1 and "without access_token" in stored.last_refresh_error


@pytest.mark.django_db
def test_prune_drops_long_expired_sessions_and_keeps_live_and_recent_ones(retailer, merchant_user):
    now = timezone.now()

    def session(name, expires_at):
        return OAuthSession.objects.create(state=name * 43, provider="square", retailer=retailer, user=merchant_user,
                                           browser_binding="b" * 64, code_verifier="v" * 86,
                                           redirect_uri="https://portal.example.test/cb", expires_at=expires_at)

    old = session("o", now - timedelta(days=2))
    used_old = session("u", now - timedelta(days=3))
    OAuthSession.objects.filter(pk=used_old.pk).update(used_at=now - timedelta(days=3), outcome="connected")
    recent = session("r", now - timedelta(hours=1))  # expired, kept a day for audit
    live = session("l", now + timedelta(minutes=9))

    assert prune_oauth_sessions() == 2
    assert set(OAuthSession.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert not OAuthSession.objects.filter(pk=old.pk).exists()
    assert prune_oauth_sessions() == 0


# --- end to end: a real worker, the sandbox, PostgreSQL and Redis ----------------------------------------------

def raw_column(pk: int, column: str) -> bytes:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM integrations_connection WHERE id = %s", [pk])
        return bytes(cursor.fetchone()[0])


@pytest.fixture
def worker_on_sandbox(sandbox_server, monkeypatch):
    """Point the worker process (started by ``celery_worker``, which copies os.environ) at the sandbox."""
    monkeypatch.setenv("SHOPIFY_BASE_URL_TEMPLATE", f"{sandbox_server.url}/shopify/{{shop}}")
    monkeypatch.setenv("SQUARE_BASE_URL", f"{sandbox_server.url}/square")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return sandbox_server


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.e2e
def test_worker_refreshes_a_due_shopify_token_at_the_sandbox_and_stores_it_encrypted(
        worker_on_sandbox, celery_worker, retailer):
    from sandbox.shopify.oauth import REFRESH_SECONDS
    from tests.processes import wait_until

    sandbox = worker_on_sandbox
    shop = sandbox.default_account("shopify")
    refresh = sandbox.state.issue_token("shopify", shop, settings.SHOPIFY_CLIENT_ID, "refresh", REFRESH_SECONDS,
                                        prefix="shprt_", scopes=["read_products"])
    due = make_connection(retailer, "shopify", shop, expires_in=timedelta(minutes=5), access="shpat_about_to_expire",
                          refresh=refresh)
    fresh = make_connection(retailer, account="SQ-E2E-FRESH", expires_in=timedelta(days=29))

    refresh_expiring_tokens.delay()  # what beat sends; the worker fans out and refreshes

    stored = wait_until(
        lambda: (c := Connection.objects.get(pk=due.pk)).last_refresh_at and c, timeout=60,
        what="the worker to refresh the Shopify token")
    assert stored.access_token.startswith("shpat_") and stored.access_token != "shpat_about_to_expire"
    assert stored.refresh_token != refresh and stored.refresh_token.startswith("shprt_")
    assert timedelta(minutes=55) < stored.token_expires_at - timezone.now() <= timedelta(hours=1)
    # The sandbox issued it and accepts it; exactly one refresh call was made.
    assert sandbox.state.token(stored.access_token, "shopify") is not None
    assert sandbox.token_calls("shopify", "refresh_token") == 1
    # At rest the token is Fernet ciphertext, not the token.
    for column, value in (("access_token", stored.access_token), ("refresh_token", stored.refresh_token)):
        raw = raw_column(due.pk, column)
        assert value.encode() not in raw and raw.startswith(b"gAAAAA")
    assert Connection.objects.get(pk=fresh.pk).last_refresh_at is None
