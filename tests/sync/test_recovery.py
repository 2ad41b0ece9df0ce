"""A run whose worker died (heartbeat stopped) is failed and its schedule made due; a worker that was only slow
is fenced off and cannot commit over the run that replaced it."""

import pytest
from django.utils import timezone

from integrations.models import SyncCursor, SyncRun, SyncSchedule
from integrations.sync import engine, recovery, services

from .conftest import make_schedules


def running_run(connection, stream, heartbeat_age_seconds):
    run = services.create_run(connection, stream, trigger="schedule")
    claimed = engine.claim(run.pk)
    SyncRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timezone.timedelta(seconds=heartbeat_age_seconds))
    return claimed


def test_stale_running_runs_fail_and_their_schedule_becomes_due(square_connection, settings):
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 60
    make_schedules(square_connection, due=False)
    dead = running_run(square_connection, "orders", heartbeat_age_seconds=120)
    alive = running_run(square_connection, "catalog", heartbeat_age_seconds=5)
    assert recovery.fail_stale_runs() == [dead.pk]
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == "failed" and "worker lost" in dead.error and dead.finished_at
    assert alive.status == "running"
    schedule = SyncSchedule.objects.get(connection=square_connection, stream="orders")
    assert schedule.next_run_at <= timezone.now()
    # The stream is free again: a new run can be queued.
    assert services.create_run(square_connection, "orders", trigger="recovery") is not None


def test_a_fenced_worker_cannot_heartbeat_or_finish_over_recovery(square_connection, settings):
    settings.SYNC_HEARTBEAT_TIMEOUT_SECONDS = 60
    run = running_run(square_connection, "orders", heartbeat_age_seconds=120)
    executor = engine.RunExecutor(run)
    recovery.fail_stale_runs()
    with pytest.raises(engine.RunFenced):
        executor.heartbeat(force=True)
    engine.finish(run, SyncRun.Status.SUCCEEDED)
    run.refresh_from_db()
    assert run.status == "failed"


def test_cursor_writes_are_fenced_by_version(square_connection):
    run = running_run(square_connection, "orders", heartbeat_age_seconds=0)
    row = SyncCursor.objects.create(connection=square_connection, stream="orders", value={})
    executor = engine.RunExecutor(run)
    executor._save_cursor(row, {"updated_at": "2026-10-01T00:00:00.000Z"})
    SyncCursor.objects.filter(pk=row.pk).update(version=row.version + 5)  # another writer moved it
    with pytest.raises(engine.RunFenced):
        executor._save_cursor(row, {"updated_at": "2026-10-02T00:00:00.000Z"})
    assert SyncCursor.objects.get(pk=row.pk).value == {"updated_at": "2026-10-01T00:00:00.000Z"}


def test_queued_runs_never_sent_are_resent(square_connection, monkeypatch):
    run = services.create_run(square_connection, "orders", trigger="schedule")
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=10))
    sent = []
    monkeypatch.setattr(recovery, "enqueue", lambda pk: sent.append(pk))
    assert recovery.resend_lost_queued_runs(after_seconds=60) == [run.pk]
    SyncRun.objects.filter(pk=run.pk).update(task_id="celery-task-id")
    assert recovery.resend_lost_queued_runs(after_seconds=60) == []


def test_runs_never_picked_up_are_failed_after_the_stuck_limit(square_connection):
    old = services.create_run(square_connection, "orders", trigger="schedule")
    fresh = services.create_run(square_connection, "catalog", trigger="schedule")
    SyncRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(hours=2))
    assert recovery.fail_stuck_queued_runs(after_seconds=3600) == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == "failed" and "never picked up" in old.error and fresh.status == "queued"


def test_shopify_inventory_waits_while_variants_are_active(retailer):
    from .conftest import make_connection

    shop = make_connection(retailer, provider="shopify", account="demo.myshopify.com")
    variants = services.create_run(shop, "variants", trigger="manual")
    inventory = services.create_run(shop, "inventory", trigger="manual")
    orders = services.create_run(shop, "orders", trigger="manual")
    assert engine.waiting_for(inventory.pk) == ["variants"]
    assert engine.waiting_for(orders.pk) == []
    SyncRun.objects.filter(pk=variants.pk).update(status="succeeded")
    assert engine.waiting_for(inventory.pk) == []
