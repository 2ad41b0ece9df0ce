"""The one health per connection: each fact gives its state and a reason in words; the worst state wins."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.health import (
    DEGRADED,
    DISCONNECTED,
    FAILING,
    HEALTHY,
    NEEDS_RECONNECT,
    PAUSED,
    connection_health,
    connections_health,
)
from integrations.models import Connection, SyncRun, SyncSchedule

pytestmark = pytest.mark.django_db


def finished_run(connection, stream, status="succeeded", *, ago=timedelta(minutes=1), **extra):
    at = timezone.now() - ago
    run = SyncRun.objects.create(connection=connection, stream=stream, status=status, trigger="schedule", **extra)
    SyncRun.objects.filter(pk=run.pk).update(created_at=at, started_at=at, finished_at=at)
    return run


def all_fresh(connection, *, but=()):
    for stream in ("locations", "catalog", "inventory", "orders"):
        if stream not in but:
            finished_run(connection, stream)


def test_a_connection_with_fresh_successful_streams_is_healthy(connection):
    all_fresh(connection)
    health = connection_health(connection)
    assert (health.state, health.reasons) == (HEALTHY, ())


def test_a_failed_latest_run_makes_it_failing_with_the_error_in_words(connection):
    all_fresh(connection)
    finished_run(connection, "orders", "failed", error="ProviderUnavailable: HTTP 503 after 5 attempts")
    health = connection_health(connection)
    assert health.state == FAILING
    (reason,) = health.reasons
    assert reason.code == "failing:orders"
    assert "Orders: the last sync failed" in reason.text and "the provider is unavailable" in reason.text
    assert "ProviderUnavailable" not in reason.text


def test_refused_records_degrade_it(connection):
    all_fresh(connection)
    finished_run(connection, "inventory", "succeeded_with_errors", records_refused=2,
                 refused_samples=["stock level L1/V9: available: out of range: '1E+30'"])
    health = connection_health(connection)
    assert health.state == DEGRADED
    assert health.reasons[0].code == "refused:inventory"
    assert "2 record(s) refused" in health.reasons[0].text and "out of range" in health.reasons[0].text


def test_a_stream_not_updated_for_two_intervals_is_stale(connection):
    all_fresh(connection, but=["orders"])
    finished_run(connection, "orders", ago=timedelta(hours=3))  # orders run every hour (+10 min grace)
    health = connection_health(connection)
    assert health.state == DEGRADED
    assert [r.code for r in health.reasons] == ["stale:orders"]
    assert "expected every hour" in health.reasons[0].text


def test_a_paused_stream_pauses_the_connection_with_its_reason(connection):
    all_fresh(connection)
    SyncSchedule.objects.filter(connection=connection, stream="orders").update(
        paused_at=timezone.now(), paused_reason="Paused after 5 failed syncs in a row; last error: outage")
    health = connection_health(connection)
    assert health.state == PAUSED and "Paused after 5 failed syncs" in health.reasons[0].text


def test_a_dead_grant_needs_reconnect_and_outranks_everything(connection):
    finished_run(connection, "orders", "failed", error="ProviderAuthError: HTTP 401")
    Connection.objects.filter(pk=connection.pk).update(
        status=Connection.Status.NEEDS_RECONNECT, problem="Square access was revoked or has expired: reconnect.")
    connection.refresh_from_db()
    health = connection_health(connection)
    assert health.state == NEEDS_RECONNECT
    assert health.reasons[0].text == "Square access was revoked or has expired: reconnect."


def test_items_holding_stock_without_a_match_are_waiting_for_matching(connection):
    from inventory.models import InventoryLevel, ProductMapping, StoreMapping

    all_fresh(connection)
    store = StoreMapping.objects.create(retailer=connection.retailer, provider="square",
                                        external_account_id="MERCHANT-1", external_id="L1")
    item = ProductMapping.objects.create(retailer=connection.retailer, provider="square",
                                         external_account_id="MERCHANT-1", external_id="V1")
    ProductMapping.objects.create(retailer=connection.retailer, provider="square",
                                  external_account_id="MERCHANT-1", external_id="V2")  # holds nothing
    InventoryLevel.objects.create(retailer=connection.retailer, store_mapping=store, product_mapping=item,
                                  as_of=timezone.now())
    health = connection_health(connection)
    assert health.state == DEGRADED
    assert health.reasons[0].text.startswith("1 item and 1 location waiting for matching")
    del item


def test_disconnected_is_its_own_state(connection):
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.DISCONNECTED)
    connection.refresh_from_db()
    assert connection_health(connection).state == DISCONNECTED


def test_the_bulk_variant_costs_the_same_queries_for_many_connections(connection, retailer,
                                                                      django_assert_max_num_queries):
    from tests.sync.conftest import make_connection, make_schedules

    others = [make_connection(retailer, account=f"M-{n}") for n in range(5)]
    for other in others:
        make_schedules(other, due=False)
    with django_assert_max_num_queries(6):
        result = connections_health([connection, *others])
    assert len(result) == 6
