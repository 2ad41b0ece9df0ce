"""The dispatcher claims due schedules, queues one run per (connection, stream) and never queues a stream twice,
even with two dispatchers at once (SKIP LOCKED on PostgreSQL)."""

import threading

import pytest
from django.db import connection as db
from django.utils import timezone

from integrations.models import Connection, SyncRun, SyncSchedule
from integrations.sync import dispatch, services

from .conftest import make_connection, make_schedules

# Square's streams: the four data streams and the daily stock check (reconcile_stock).
SQUARE_STREAMS = ["catalog", "inventory", "locations", "orders", "reconcile_stock"]
N = len(SQUARE_STREAMS)


def collect():
    sent = []
    return sent, lambda items: sent.extend((run_id, countdown) for run_id, _task_id, countdown in items)


def test_due_schedules_are_queued_with_jitter_and_moved_forward(square_connection):
    make_schedules(square_connection)
    sent, send = collect()
    before = timezone.now()
    result = dispatch.dispatch_due(send=send, jitter_seconds=20)
    assert result == {"claimed": N, "queued": N}
    runs = SyncRun.objects.filter(connection=square_connection)
    assert sorted(r.stream for r in runs) == SQUARE_STREAMS
    assert {r.status for r in runs} == {"queued"} and {r.trigger for r in runs} == {"schedule"}
    assert sorted(run_id for run_id, _ in sent) == sorted(r.pk for r in runs)
    assert all(0 <= countdown <= 20 for _, countdown in sent)
    inventory = SyncSchedule.objects.get(connection=square_connection, stream="inventory")
    assert inventory.next_run_at >= before + timezone.timedelta(seconds=900)
    # Nothing is due any more: a second pass queues nothing.
    assert dispatch.dispatch_due(send=send)["claimed"] == 0


def test_disabled_future_and_inactive_connection_schedules_are_not_claimed(retailer, square_connection):
    make_schedules(square_connection, due=False)
    broken = make_connection(retailer, account="MERCHANT-2")
    make_schedules(broken)
    Connection.objects.filter(pk=broken.pk).update(status=Connection.Status.NEEDS_RECONNECT)
    third = make_connection(retailer, account="MERCHANT-3")
    make_schedules(third)
    SyncSchedule.objects.filter(connection=third).update(enabled=False)
    sent, send = collect()
    assert dispatch.dispatch_due(send=send) == {"claimed": 0, "queued": 0}
    assert not SyncRun.objects.exists()


def test_a_stream_with_an_active_run_is_skipped_not_queued_twice(square_connection):
    make_schedules(square_connection)
    manual = services.create_run(square_connection, "orders", trigger="manual")
    sent, send = collect()
    result = dispatch.dispatch_due(send=send)
    assert result == {"claimed": N, "queued": N - 1}
    assert SyncRun.objects.filter(connection=square_connection, stream="orders").get() == manual
    orders = SyncSchedule.objects.get(connection=square_connection, stream="orders")
    assert orders.last_outcome.startswith("skipped")


def test_batches_until_every_due_schedule_is_claimed(retailer):
    for n in range(5):
        make_schedules(make_connection(retailer, account=f"M-{n}"))
    sent, send = collect()
    assert dispatch.dispatch_due(send=send, batch_size=3) == {"claimed": 5 * N, "queued": 5 * N}
    assert len({run_id for run_id, _ in sent}) == 5 * N


def test_request_sync_refuses_a_second_active_run_and_unknown_streams(square_connection,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.request_sync(square_connection, "catalog", trigger="manual")
        second = services.request_sync(square_connection, "catalog", full=True, trigger="manual")
    assert first is not None and second is None
    assert len(callbacks) == 1  # the task is only sent once the row is committed
    with pytest.raises(ValueError, match="no stream 'variants'"):
        services.request_sync(square_connection, "variants", trigger="manual")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_queue_every_due_schedule_exactly_once(retailer):
    for n in range(60):
        make_schedules(make_connection(retailer, account=f"M-{n}"))
    sent: list[int] = []
    barrier = threading.Barrier(2)
    errors = []

    def dispatcher():
        try:
            barrier.wait()
            dispatch.dispatch_due(send=lambda items: sent.extend(i[0] for i in items), batch_size=7)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(sent) == 60 * N and len(set(sent)) == 60 * N
    assert SyncRun.objects.count() == 60 * N
