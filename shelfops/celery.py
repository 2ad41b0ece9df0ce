import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfops.settings")

app = Celery("shelfops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each part of integrations keeps its tasks beside its services; a package without a tasks module is skipped.
app.autodiscover_tasks(
    ["integrations.http", "integrations.oauth", "integrations.webhooks", "integrations.sync", "inventory"]
)


@app.task(name="shelfops.ping")
def ping(marker_path: str | None = None) -> str:
    """A no-op task used by health checks and the smoke test to prove a worker runs what the web sends."""
    if marker_path:
        with open(marker_path, "w") as fh:
            fh.write("pong")
    return "pong"


@worker_init.connect
def _lower_sync_worker_priority(sender=None, **kwargs):
    """A worker that runs syncs and no webhooks gives way on the CPU (integrations/sync/priority.py). Runs before
    the pool starts, so its processes or threads inherit the lower priority."""
    from integrations.sync.priority import lower_if_sync_worker

    lower_if_sync_worker(sender.app.amqp.queues.consume_from)
