"""One e-mail per health transition (to the retailer's users and ADMINS), none while the state holds; a freshness
breach notifies even when nothing failed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from integrations.health import refresh_health
from integrations.models import Connection

from .test_health_model import all_fresh, finished_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def refresh(connection, django_capture_on_commit_callbacks):
    def _refresh():
        with django_capture_on_commit_callbacks(execute=True):
            return refresh_health(connection.pk)
    return _refresh


def test_one_mail_per_transition_and_none_while_the_state_holds(connection, refresh):
    all_fresh(connection)
    assert refresh().state == "healthy"
    assert mail.outbox == []  # a new connection that is fine is no news

    finished_run(connection, "orders", "failed", error="ProviderUnavailable: HTTP 503 after 5 attempts")
    assert refresh().state == "failing"
    merchant, staff = mail.outbox
    assert merchant.to == ["owner@acme.test"] and staff.to == ["ops@shelfops.test"]
    assert "Healthy -> Failing" in merchant.subject and "Acme Coffee" in merchant.subject
    assert "Orders: the last sync failed" in merchant.body
    assert f"https://portal.shelfops.test/portal/connections/{connection.pk}/" in merchant.body

    for _ in range(3):
        refresh()
    assert len(mail.outbox) == 2  # still failing, same problem: no storm

    finished_run(connection, "orders")
    assert refresh().state == "healthy"
    assert len(mail.outbox) == 4 and "Failing -> Healthy" in mail.outbox[2].subject
    assert Connection.objects.get(pk=connection.pk).health_state == "healthy"


def test_a_freshness_breach_notifies_even_when_nothing_failed(connection, refresh):
    all_fresh(connection, but=["orders"])
    finished_run(connection, "orders", ago=timedelta(minutes=30))
    refresh()
    assert mail.outbox == []
    # Two hours and more pass without an orders run: the periodic check sees it.
    finished_run(connection, "orders", ago=timedelta(hours=3))
    from integrations.models import SyncRun

    SyncRun.objects.filter(connection=connection, stream="orders", finished_at__gt=timezone.now()
                           - timedelta(hours=1)).delete()
    health = refresh()
    assert health.state == "degraded"
    assert len(mail.outbox) == 2
    assert "Orders: not updated since" in mail.outbox[0].body and "expected every hour" in mail.outbox[0].body
    refresh()
    assert len(mail.outbox) == 2


def test_a_new_problem_in_the_same_state_notifies_once(connection, refresh):
    all_fresh(connection, but=["orders", "catalog"])
    finished_run(connection, "catalog", "succeeded_with_errors", records_refused=1, refused_samples=["bad"])
    finished_run(connection, "orders")
    refresh()
    assert len(mail.outbox) == 2  # healthy -> degraded (first health, but bad: news)
    finished_run(connection, "orders", ago=timedelta(hours=4))
    from integrations.models import SyncRun

    SyncRun.objects.filter(connection=connection, stream="orders", finished_at__gt=timezone.now()
                           - timedelta(hours=1)).delete()
    assert refresh().state == "degraded"
    assert len(mail.outbox) == 4 and "new problem" in mail.outbox[2].subject
    assert "Orders: not updated since" in mail.outbox[2].body


def test_mail_goes_only_to_this_retailers_users(connection, refresh, other_merchant_user):
    other_merchant_user.email = "rival@rival.test"
    other_merchant_user.save()
    finished_run(connection, "orders", "failed", error="boom")
    refresh()
    assert all("rival@rival.test" not in m.to for m in mail.outbox)
