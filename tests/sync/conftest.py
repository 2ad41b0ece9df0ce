import pytest
from django.utils import timezone

from integrations.models import Connection, SyncSchedule


def make_connection(retailer, provider="square", account="MERCHANT-1", **extra):
    return Connection.objects.create(
        retailer=retailer, provider=provider, external_account_id=account, status=Connection.Status.ACTIVE,
        access_token="test-access-token", **extra,
    )


def make_schedules(connection, *, due=True):
    from integrations.providers import get_provider

    now = timezone.now()
    return [
        SyncSchedule.objects.create(
            connection=connection, stream=stream, interval_seconds=interval,
            next_run_at=now - timezone.timedelta(seconds=1) if due else now + timezone.timedelta(hours=1),
        )
        for stream, interval in get_provider(connection.provider).schedule_defaults.items()
    ]


@pytest.fixture
def square_connection(retailer):
    return make_connection(retailer)


# --- end to end against the sandbox with a real Celery worker (test_e2e_*.py) ---------------------------------------
@pytest.fixture
def sandbox(sandbox_server):
    # Webhooks are not under test here: send them to a closed port, never to a developer's portal on :8000.
    sandbox_server.set_webhook_target("http://127.0.0.1:9")
    return sandbox_server


@pytest.fixture
def worker(sandbox):
    from .e2e_helpers import start_worker

    worker = start_worker(sandbox)
    yield worker
    worker.stop()
