"""Celery entry points of the sync area (autodiscovered). Task names are part of the fixed beat set."""

from celery import shared_task

from integrations import health

from . import dispatch, engine, failures, recovery, services


@shared_task(name="integrations.sync.dispatch_due_schedules", ignore_result=True)
def dispatch_due_schedules() -> dict:
    """Beat, every 30 s: recover runs whose worker died, then queue every due schedule."""
    failed = recovery.fail_stale_runs()
    resent = recovery.resend_lost_queued_runs()
    stuck = recovery.fail_stuck_queued_runs()
    result = dispatch.dispatch_due()
    return {**result, "stale_failed": len(failed), "resent": len(resent), "stuck_failed": stuck}


# A waiting run checks again this often: short, because at connect the first stock levels of a Shopify shop wait
# on its variants stream (a re-check is one cheap query and one message; 5 s added up to 5 s to first data).
PREREQUISITE_RETRY_SECONDS = 1.0


@shared_task(name="integrations.sync.run_sync", ignore_result=True, acks_late=True)
def run_sync(run_id: int) -> str | None:
    blockers = engine.waiting_for(run_id)
    if blockers:
        # Still queued: come back shortly rather than hold a worker slot while the other stream runs.
        services.enqueue(run_id, countdown=PREREQUISITE_RETRY_SECONDS)
        return f"waiting for {', '.join(blockers)}"
    run = engine.execute(run_id)
    return run.status if run else None


@shared_task(name="integrations.health.check_connections", ignore_result=True)
def check_connections() -> dict:
    """Beat (SHELFOPS_PERIODIC_TASKS): probe connections with paused streams (a successful test resumes them), then
    refresh every connection's health, so freshness breaches notify even when no run ends."""
    resumed = failures.probe_paused()
    return {"resumed": resumed, "refreshed": health.refresh_all()}
