"""Token lifecycle: refresh ahead of expiry and on demand, keep the old refresh token when none comes back,
invalid_grant / repeated failure -> needs_reconnect (seen by the merchant). Provider HTTP mocked with responses."""

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from integrations.http.errors import ProviderAuthError
from integrations.models import Connection
from integrations.oauth.tokens import MAX_REFRESH_FAILURES, due_for_refresh, fresh_access_token, refresh_connection

from .conftest import make_connection

pytestmark = pytest.mark.django_db

SQUARE_TOKEN = "https://square.example.test/oauth2/token"
NETSUITE_TOKEN = "https://1234567-sb1.suitetalk.netsuite.example.test/services/rest/auth/oauth2/v1/token"


@pytest.fixture(autouse=True)
def fast_client(settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0


def square_answer(access="at-new-0002", refresh="rt-new-0002"):
    return {"access_token": access, "token_type": "bearer", "expires_at": "2099-01-01T00:00:00Z",
            "merchant_id": "MERCHANT-1", "refresh_token": refresh, "refresh_token_expires_at": "2099-03-01T00:00:00Z"}


@responses.activate
def test_token_far_from_expiry_is_used_without_a_call(retailer):
    connection = make_connection(retailer, expires_in=timedelta(days=20))
    assert fresh_access_token(connection) == "at-old-0001"
    assert len(responses.calls) == 0


@responses.activate
def test_expiring_square_token_is_refreshed_with_the_rotating_refresh_token(retailer):
    responses.post(SQUARE_TOKEN, json=square_answer())
    connection = make_connection(retailer, expires_in=timedelta(minutes=1))
    assert fresh_access_token(connection) == "at-new-0002"
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {"grant_type": "refresh_token", "client_id": "sq0idp-shelfops-local", "refresh_token": "rt-old-0001"}
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.access_token, stored.refresh_token) == ("at-new-0002", "rt-new-0002")
    assert stored.token_expires_at.year == 2099 and stored.refresh_token_expires_at.month == 3
    assert connection.access_token == "at-new-0002"  # the caller's instance is brought up to date


@responses.activate
def test_refresh_answer_without_refresh_token_keeps_the_old_one(retailer):
    responses.post(NETSUITE_TOKEN, json={"access_token": "ns-at-2", "expires_in": "3600", "token_type": "bearer"})
    keep_until = timezone.now() + timedelta(days=6)
    connection = make_connection(retailer, "netsuite", "1234567_SB1", expires_in=timedelta(minutes=-5),
                                 access="ns-at-1", refresh="ns-rt-1", refresh_token_expires_at=keep_until)
    assert fresh_access_token(connection) == "ns-at-2"
    request = responses.calls[0].request
    assert request.headers["Authorization"].startswith("Basic ")
    assert "grant_type=refresh_token" in request.body and "refresh_token=ns-rt-1" in request.body
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.refresh_token == "ns-rt-1"
    assert stored.refresh_token_expires_at == keep_until
    assert timedelta(minutes=59) < stored.token_expires_at - timezone.now() <= timedelta(hours=1)


@responses.activate
def test_invalid_grant_marks_needs_reconnect_and_the_merchant_sees_it(retailer, merchant_client):
    responses.post(NETSUITE_TOKEN, status=400, json={"error": "invalid_grant"})
    connection = make_connection(retailer, "netsuite", "1234567_SB1", expires_in=timedelta(minutes=-1))
    with pytest.raises(ProviderAuthError):
        fresh_access_token(connection)
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.NEEDS_RECONNECT
    assert "reconnect" in stored.problem and "invalid_grant" in stored.last_refresh_error
    page = merchant_client.get("/portal/").content.decode()
    assert "Needs reconnect" in page and stored.problem in page.replace("&#x27;", "'")
    # A connection that needs the merchant makes no further refresh calls.
    with pytest.raises(ProviderAuthError):
        fresh_access_token(stored)
    assert len(responses.calls) == 1


@responses.activate
def test_square_revoked_refresh_token_reads_as_access_revoked(retailer, merchant_client):
    responses.post(SQUARE_TOKEN, status=401, json={"errors": [
        {"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED", "detail": "Invalid refresh token."}]})
    connection = make_connection(retailer, expires_in=timedelta(minutes=-1))
    with pytest.raises(ProviderAuthError):
        fresh_access_token(connection)
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.NEEDS_RECONNECT
    assert stored.problem == "Square access was revoked or has expired: reconnect."
    assert "Square access was revoked" in merchant_client.get("/portal/").content.decode()


@responses.activate
def test_repeated_transient_failures_end_in_needs_reconnect(retailer):
    responses.post(SQUARE_TOKEN, status=503, json={"errors": [{"code": "SERVICE_UNAVAILABLE"}]})
    connection = make_connection(retailer, account="MERCHANT-FLAKY", expires_in=timedelta(minutes=-1))
    for attempt in range(1, MAX_REFRESH_FAILURES):
        with pytest.raises(ProviderAuthError):
            fresh_access_token(connection)
        stored = Connection.objects.get(pk=connection.pk)
        assert (stored.status, stored.refresh_failures) == (Connection.Status.ACTIVE, attempt)
    with pytest.raises(ProviderAuthError):
        fresh_access_token(connection)
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.NEEDS_RECONNECT
    assert "could not renew Square access" in stored.problem


@responses.activate
def test_failed_refresh_ahead_keeps_the_still_valid_token(retailer):
    responses.post(SQUARE_TOKEN, status=503, json={})
    connection = make_connection(retailer, account="MERCHANT-AHEAD", expires_in=timedelta(days=3))
    assert refresh_connection(connection, margin=timedelta(days=23)) == "at-old-0001"
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.refresh_failures == 1 and stored.status == Connection.Status.ACTIVE


@responses.activate
def test_forced_refresh_after_401_is_skipped_when_another_worker_already_replaced_the_token(retailer):
    connection = make_connection(retailer, expires_in=timedelta(days=20))
    stale = Connection.objects.get(pk=connection.pk)
    Connection.objects.filter(pk=connection.pk).update(access_token="at-by-other-worker")
    Connection.objects.get(pk=connection.pk)  # (encrypted field update above goes through get_db_prep_value)
    assert fresh_access_token(stale, force=True) == "at-by-other-worker"
    assert len(responses.calls) == 0


@responses.activate
def test_forced_refresh_with_the_same_token_calls_the_provider(retailer):
    responses.post(SQUARE_TOKEN, json=square_answer(access="at-forced"))
    connection = make_connection(retailer, expires_in=timedelta(days=20))
    assert fresh_access_token(connection, force=True) == "at-forced"
    assert len(responses.calls) == 1


def test_disconnected_connection_never_refreshes(retailer):
    connection = make_connection(retailer, status=Connection.Status.DISCONNECTED, expires_in=timedelta(minutes=-1))
    with pytest.raises(ProviderAuthError):
        fresh_access_token(connection)


def test_due_for_refresh_uses_each_providers_lead_time(retailer):
    square_due = make_connection(retailer, account="SQ-DUE", expires_in=timedelta(days=22))
    make_connection(retailer, account="SQ-FRESH", expires_in=timedelta(days=29))
    shop_due = make_connection(retailer, "shopify", "due.myshopify.com", expires_in=timedelta(minutes=10))
    make_connection(retailer, "shopify", "fresh.myshopify.com", expires_in=timedelta(minutes=50))
    make_connection(retailer, "shopify", "gone.myshopify.com", expires_in=timedelta(minutes=1),
                    status=Connection.Status.DISCONNECTED)
    make_connection(retailer, "shopify", "norefresh.myshopify.com", expires_in=timedelta(minutes=1), refresh=None)
    assert sorted(due_for_refresh()) == sorted([square_due.pk, shop_due.pk])
