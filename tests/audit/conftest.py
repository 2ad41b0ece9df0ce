import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEntry


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password-123")


@pytest.fixture
def staff(staff_user, settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0
    client = Client()
    client.force_login(staff_user)
    return client


def only_entry(action: str, since: int = 0) -> AuditEntry:
    """The one entry of ``action`` (written after entry id ``since``); fails when there is none or more than one."""
    entries = list(AuditEntry.objects.filter(action=action, pk__gt=since))
    assert len(entries) == 1, f"expected one {action} entry, got {[str(e) for e in entries]}"
    return entries[0]


@pytest.fixture
def merchant_client(merchant_user):
    client = Client()
    client.force_login(merchant_user)
    return client


def last_entry_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
