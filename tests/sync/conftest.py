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
