"""The trail's own rules: entries are append-only, hold no secrets, take the actor and address from the request,
and the address comes from X-Forwarded-For only in production mode."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from audit import audited, record
from audit.addresses import client_ip
from audit.models import AppendOnlyError, AuditEntry
from audit.tasks import prune_audit_entries

pytestmark = pytest.mark.django_db


def test_an_entry_cannot_be_changed_or_deleted_through_the_orm(retailer, merchant_user):
    entry = record("connection.test", actor=merchant_user, retailer=retailer)
    entry.outcome = "failure"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(outcome="failure")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).outcome == "success"


def test_secret_sounding_details_are_redacted(retailer):
    entry = record("x", actor="command test", retailer=retailer, access_token="EAAA-secret", code="oauth-code",
                   nested={"client_secret": "s3"}, streams=["orders"])
    assert entry.details == {"access_token": "[redacted]", "code": "[redacted]",
                             "nested": {"client_secret": "[redacted]"}, "streams": ["orders"]}


def test_actor_and_address_come_from_the_request(merchant_user, retailer):
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7")
    request.user = merchant_user
    entry = record("x", request=request, retailer=retailer)
    assert (entry.actor_user, entry.actor_label, entry.ip_address) == (merchant_user, "acme-merchant",
                                                                        "198.51.100.7")


def test_forwarded_for_is_trusted_only_in_production_mode(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.SHELFOPS_ENV = "local"
    assert client_ip(request) == "10.0.0.2", "outside production the header is the client's own claim"
    settings.SHELFOPS_ENV = "production"
    # The proxy appended the address it saw: the rightmost entry. The left one was sent by the client.
    assert client_ip(request) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"
    request.META["HTTP_X_FORWARDED_FOR"] = "not-an-address"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.2"


def test_audited_atomic_commits_with_the_action_and_keeps_failures(retailer):
    with audited("mapping.set", atomic=True, actor="t", retailer=retailer):
        pass
    assert AuditEntry.objects.filter(action="mapping.set", outcome="success").count() == 1
    with pytest.raises(ZeroDivisionError), audited("mapping.set", atomic=True, actor="t", retailer=retailer):
        record("inner", actor="t")  # written in the action's transaction: rolled back with it
        1 / 0  # noqa: B018
    assert not AuditEntry.objects.filter(action="inner").exists()
    failure = AuditEntry.objects.get(action="mapping.set", outcome="failure")
    assert failure.details == {"error": "ZeroDivisionError"}


def test_an_entry_in_a_rolled_back_transaction_is_gone_with_it(retailer):
    with pytest.raises(RuntimeError), transaction.atomic():
        record("x", actor="t", retailer=retailer)
        raise RuntimeError
    assert not AuditEntry.objects.exists()


def test_pruning_removes_only_entries_past_retention(settings, retailer):
    settings.AUDIT_RETENTION_DAYS = 30
    old = AuditEntry.objects.create(action="x", outcome="success", actor_label="t", retailer=retailer,
                                    created_at=timezone.now() - timedelta(days=31))
    recent = AuditEntry.objects.create(action="x", outcome="success", actor_label="t", retailer=retailer,
                                       created_at=timezone.now() - timedelta(days=29))
    assert prune_audit_entries() == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not AuditEntry.objects.filter(pk=old.pk).exists()


def test_deleting_a_user_or_connection_keeps_their_entries_readable(retailer, merchant_user):
    from tests.oauth.conftest import make_connection

    connection = make_connection(retailer)
    entry = record("connection.test", actor=merchant_user, connection=connection)
    connection.delete()
    merchant_user.delete()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.actor_user_id, entry.connection_id, entry.retailer_id) == (None, None, retailer.pk)
    assert entry.actor_label == "acme-merchant" and "MERCHANT-1" in entry.connection_label


def test_prune_task_is_scheduled_by_its_beat_name(settings):
    names = {task for task, _ in settings.SHELFOPS_PERIODIC_TASKS.values()}
    assert prune_audit_entries.name == "audit.prune_audit_entries" and prune_audit_entries.name in names


@pytest.mark.postgres
def test_postgresql_refuses_changes_that_bypass_the_model(retailer, merchant_user):
    from django.db import DatabaseError, connection

    entry = record("connection.test", actor=merchant_user, retailer=retailer)
    for sql in ("UPDATE audit_auditentry SET outcome = 'failure' WHERE id = %s",
                "UPDATE audit_auditentry SET retailer_id = NULL, action = 'x' WHERE id = %s",
                "DELETE FROM audit_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).outcome == "success"
