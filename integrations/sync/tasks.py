"""Celery entry points of the sync area (autodiscovered). Task names are part of the fixed beat set."""

from celery import shared_task

from . import dispatch, engine, recovery


@shared_task(name="integrations.sync.dispatch_due_schedules", ignore_result=True)
def dispatch_due_schedules() -> dict:
    """Beat, every 30 s: recover runs whose worker died, then queue every due schedule."""
    failed = recovery.fail_stale_runs()
    resent = recovery.resend_lost_queued_runs()
    stuck = recovery.fail_stuck_queued_runs()
    result = dispatch.dispatch_due()
    return {**result, "stale_failed": len(failed), "resent": len(resent), "stuck_failed": stuck}


@shared_task(name="integrations.sync.run_sync", ignore_result=True, acks_late=True)
def run_sync(run_id: int) -> str | None:
    run = engine.execute(run_id)
    return run.status if run else None
