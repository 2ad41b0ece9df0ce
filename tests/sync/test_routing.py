"""Every send path honours task routing: sync runs go to the ``syncs`` queue, webhook processing to ``webhooks``,
the rest to ``maintenance`` (issue 16). Read back from the real broker, not from a mock of it."""

from kombu import Queue

from integrations.models import SyncRun
from integrations.sync import dispatch, services
from shelfops.celery import app

from .conftest import make_connection, make_schedules


def drain(queue_name: str) -> list[dict]:
    """The messages waiting on a queue (their task name and args), removed from it."""
    found = []
    with app.connection_for_read() as conn:
        queue = Queue(queue_name, routing_key=queue_name)
        with conn.SimpleQueue(queue) as simple:
            while True:
                try:
                    message = simple.get(timeout=1)
                except simple.Empty:
                    return found
                found.append({"task": message.headers["task"], "args": message.payload[0], "id": message.headers["id"]})
                message.ack()


def purge_all():
    app.control.purge()


def test_routes_by_task_name_prefix():
    app.loader.import_default_modules()
    route = app.amqp.router.route
    assert route({}, "integrations.sync.run_sync")["queue"].name == "syncs"
    assert route({}, "integrations.sync.dispatch_due_schedules")["queue"].name == "syncs"
    assert route({}, "integrations.webhooks.process_event")["queue"].name == "webhooks"
    assert route({}, "integrations.oauth.refresh_expiring_tokens")["queue"].name == "maintenance"
    assert route({}, "shelfops.ping")["queue"].name == "maintenance"


def test_a_dispatched_run_lands_on_the_syncs_queue(retailer):
    connection = make_connection(retailer)
    make_schedules(connection)
    purge_all()
    try:
        result = dispatch.dispatch_due(jitter_seconds=0)
        assert result["queued"] == 5  # four data streams and the stock check
        on_syncs = drain("syncs")
        runs = SyncRun.objects.filter(connection=connection)
        assert sorted(m["args"][0] for m in on_syncs) == sorted(r.pk for r in runs)
        assert {m["task"] for m in on_syncs} == {"integrations.sync.run_sync"}
        # The message ids are the task ids recorded on the runs (recovery and fencing rely on them).
        assert {m["id"] for m in on_syncs} == {r.task_id for r in runs}
        assert drain("maintenance") == [] and drain("webhooks") == []
    finally:
        purge_all()


def test_request_sync_and_enqueue_many_with_a_queue_override(retailer):
    connection = make_connection(retailer)
    purge_all()
    try:
        run = services.create_run(connection, "locations", trigger="manual")
        assert services.enqueue(run.pk)
        assert [m["args"][0] for m in drain("syncs")] == [run.pk]
        # A caller that names a queue (the benchmark) still gets it.
        assert services.enqueue_many([(run.pk, "bench-task", 0.0)], queue="maintenance") == 1
        assert [m["id"] for m in drain("maintenance")] == ["bench-task"]
    finally:
        purge_all()
