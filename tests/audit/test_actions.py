"""Every sensitive action writes exactly one audit entry with the right actor, retailer and outcome, also when the
action fails. Provider HTTP is mocked with ``responses`` (as in the connect/lifecycle tests)."""

from datetime import timedelta
from io import StringIO

import pytest
import responses
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEntry
from integrations.models import Connection, SyncRun, SyncSchedule, WebhookEvent
from inventory.models import ApiToken, Product, ProductMapping
from tests.api.conftest import token_client
from tests.oauth.conftest import make_connection, query_of

from .conftest import last_entry_id, only_entry

pytestmark = pytest.mark.django_db

SQ = "https://square.example.test"


@pytest.fixture(autouse=True)
def provider_hosts(settings):
    settings.BASE_URL = "https://portal.example.test"
    settings.SQUARE_BASE_URL = SQ
    settings.HTTP_MAX_ATTEMPTS = 1
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0


def admin_action(client, changelist: str, action: str, pks) -> None:
    response = client.post(reverse(f"admin:{changelist}_changelist"), {"action": action, "_selected_action": pks},
                           follow=True)
    assert response.status_code == 200


def assert_entry(entry: AuditEntry, *, actor: str, retailer, outcome: str, connection=None):
    assert (entry.actor_label, entry.retailer_id, entry.outcome) == (actor, retailer.pk if retailer else None,
                                                                     outcome)
    if connection is not None:
        assert entry.connection_id == connection.pk


def square_token(status=200):
    body = {"access_token": "EAAA-new-0001", "token_type": "bearer", "expires_at": "2099-01-01T00:00:00Z",
            "merchant_id": "M", "refresh_token": "EQAA-new-0001"}
    responses.post(f"{SQ}/oauth2/token", status=status,
                   json=body if status == 200 else {"errors": [{"code": "UNAUTHORIZED"}]})


@responses.activate
@pytest.mark.parametrize("status,outcome", [(200, "success"), (401, "failure")])
def test_token_refresh_from_admin(staff, retailer, status, outcome):
    connection = make_connection(retailer)
    square_token(status)
    admin_action(staff, "integrations_connection", "refresh_token_now", [connection.pk])
    entry = only_entry("connection.token_refresh")
    assert_entry(entry, actor="ops", retailer=retailer, outcome=outcome, connection=connection)
    assert entry.ip_address == "127.0.0.1"
    assert "EAAA" not in str(entry.details)


@responses.activate
@pytest.mark.parametrize("status,outcome", [(200, "success"), (503, "failure")])
def test_test_connection_from_admin(staff, retailer, status, outcome):
    connection = make_connection(retailer, expires_in=timedelta(days=20))
    responses.get(f"{SQ}/v2/locations", status=status, json={"locations": [{"id": "L1"}]} if status == 200 else {})
    admin_action(staff, "integrations_connection", "test_connection", [connection.pk])
    assert_entry(only_entry("connection.test"), actor="ops", retailer=retailer, outcome=outcome,
                 connection=connection)


@responses.activate
def test_disconnect_from_admin_and_from_the_portal(staff, merchant_client, retailer):
    responses.post(f"{SQ}/oauth2/revoke", json={"success": True})
    by_staff = make_connection(retailer, account="A-1", expires_in=timedelta(days=20))
    admin_action(staff, "integrations_connection", "disconnect_connections", [by_staff.pk])
    assert_entry(only_entry("connection.disconnect"), actor="ops", retailer=retailer, outcome="success",
                 connection=by_staff)
    since = last_entry_id()
    by_merchant = make_connection(retailer, account="A-2", expires_in=timedelta(days=20))
    assert merchant_client.post(f"/portal/connections/{by_merchant.pk}/disconnect/").status_code == 302
    assert_entry(only_entry("connection.disconnect", since), actor="acme-merchant", retailer=retailer,
                 outcome="success", connection=by_merchant)


@responses.activate
def test_connect_success_and_failure(merchant_client, merchant_user, retailer):
    responses.post(f"{SQ}/oauth2/token", json={
        "access_token": "EAAAl-access-secret", "token_type": "bearer", "expires_at": "2099-01-30T00:00:00Z",
        "merchant_id": "MLAUDIT1", "refresh_token": "EQAAl-refresh-secret"})
    responses.post(f"{SQ}/oauth2/token/status", json={"scopes": ["ITEMS_READ"], "merchant_id": "MLAUDIT1"})
    state = query_of(merchant_client.get("/integrations/square/connect/")["Location"])["state"]
    assert merchant_client.get("/integrations/square/callback/", {"code": "sq0cgp-c1", "state": state}).status_code \
        == 302
    entry = only_entry("connection.connect")
    assert_entry(entry, actor="acme-merchant", retailer=retailer, outcome="success",
                 connection=Connection.objects.get())
    assert "sq0cgp" not in str(entry.details) and "EAAA" not in str(entry.details)

    responses.replace(responses.POST, f"{SQ}/oauth2/token", status=401, json={"errors": [{"code": "UNAUTHORIZED"}]})
    state = query_of(merchant_client.get("/integrations/square/connect/")["Location"])["state"]
    assert merchant_client.get("/integrations/square/callback/", {"code": "sq0cgp-c2", "state": state}).status_code \
        == 400
    failure = AuditEntry.objects.get(action="connection.connect", outcome="failure")
    assert_entry(failure, actor="acme-merchant", retailer=retailer, outcome="failure")
    assert failure.details["reason"] == "exchange_failed"


@pytest.mark.parametrize("action,name", [("sync_now", "sync.now"), ("full_resync", "sync.full_resync")])
def test_sync_now_and_full_resync_from_admin(staff, retailer, action, name, django_capture_on_commit_callbacks):
    connection = make_connection(retailer)
    with django_capture_on_commit_callbacks(execute=False):
        admin_action(staff, "integrations_connection", action, [connection.pk])
    entry = only_entry(name)
    assert_entry(entry, actor="ops", retailer=retailer, outcome="success", connection=connection)
    assert sorted(entry.details["queued"]) == ["catalog", "inventory", "locations", "orders"]


def test_sync_command_that_cannot_run_is_a_failure_entry(retailer):
    connection = make_connection(retailer)
    SyncRun.objects.create(connection=connection, stream="locations", status=SyncRun.Status.RUNNING,
                           trigger="manual")
    with pytest.raises(CommandError):
        call_command("sync", str(connection.pk), "--stream", "locations", stdout=StringIO(), stderr=StringIO())
    entry = only_entry("sync.now")
    assert_entry(entry, actor="command sync", retailer=retailer, outcome="failure", connection=connection)
    assert entry.details["not_synced"] == ["locations"]


def test_pause_and_resume_a_schedule_in_admin(staff, retailer):
    connection = make_connection(retailer)
    schedule = SyncSchedule.objects.create(connection=connection, stream="orders", interval_seconds=3600,
                                           next_run_at=connection.created_at)
    url = reverse("admin:integrations_syncschedule_change", args=[schedule.pk])
    form = {"connection": connection.pk, "stream": "orders", "interval_seconds": 3600,
            "next_run_at_0": "2026-01-01", "next_run_at_1": "00:00:00"}
    assert staff.post(url, form).status_code == 302  # enabled unticked: paused
    assert_entry(only_entry("sync.pause"), actor="ops", retailer=retailer, outcome="success", connection=connection)
    assert staff.post(url, {**form, "enabled": "on"}).status_code == 302
    assert_entry(only_entry("sync.resume"), actor="ops", retailer=retailer, outcome="success", connection=connection)
    assert staff.post(url, {**form, "enabled": "on", "interval_seconds": 7200}).status_code == 302
    # An edit that does not switch the schedule on or off is not a pause or a resume.
    assert AuditEntry.objects.filter(action__startswith="sync.").count() == 2


def test_webhook_replay_from_admin_and_command(staff, retailer):
    connection = make_connection(retailer)
    matched = WebhookEvent.objects.create(provider="square", connection=connection, external_account_id="MERCHANT-1",
                                          event_id="ev-1", topic="inventory.count.updated", body=b"{}",
                                          status=WebhookEvent.Status.FAILED)
    admin_action(staff, "integrations_webhookevent", "replay_events", [matched.pk])
    assert_entry(only_entry("webhooks.replay"), actor="ops", retailer=retailer, outcome="success")

    since = last_entry_id()
    orphan = WebhookEvent.objects.create(provider="square", external_account_id="NOBODY", event_id="ev-2",
                                         topic="inventory.count.updated", body=b"{}",
                                         status=WebhookEvent.Status.UNMATCHED)
    call_command("replay_webhooks", "--ids", str(orphan.pk), stdout=StringIO())
    entry = only_entry("webhooks.replay", since)
    assert_entry(entry, actor="command replay_webhooks", retailer=None, outcome="failure")
    assert entry.details["still_unmatched"] == 1


def test_key_rotation_command(settings, retailer):
    settings.FERNET_KEYS = [Fernet.generate_key().decode(), *settings.FERNET_KEYS]
    make_connection(retailer)
    call_command("rotate_fernet_keys", stdout=StringIO())
    entry = only_entry("keys.rotate")
    assert_entry(entry, actor="command rotate_fernet_keys", retailer=None, outcome="success")
    assert entry.details["values"] >= 2


@responses.activate
def test_refresh_tokens_command_records_each_connection(retailer):
    good = make_connection(retailer, account="GOOD")
    square_token(401)
    with pytest.raises(CommandError):
        call_command("refresh_tokens", "--ids", str(good.pk), stdout=StringIO())
    assert_entry(only_entry("connection.token_refresh"), actor="command refresh_tokens", retailer=retailer,
                 outcome="failure", connection=good)


@pytest.fixture
def unmapped(retailer):
    product = Product.objects.create(retailer=retailer, name="Oat milk", sku="OAT-1")
    mapping = ProductMapping.objects.create(retailer=retailer, provider="square", external_account_id="M",
                                            external_id="ITEM-1", external_name="Oat milk 1l")
    return mapping, product


def test_mapping_set_through_the_api_is_recorded_with_the_token(retailer, unmapped):
    mapping, product = unmapped
    client = token_client(retailer)
    assert client.patch(f"/api/v1/mappings/{mapping.pk}/", {"product": product.pk}, format="json").status_code == 200
    entry = only_entry("mapping.set")
    assert_entry(entry, actor=f"API token forecasting ({client.token.prefix}…)", retailer=retailer,
                 outcome="success")
    assert entry.actor_token_id == client.token.pk
    assert (entry.details["previous"], entry.details["target"]) == (None, product.pk)


def test_mapping_set_and_create_in_admin(staff, retailer, unmapped):
    mapping, product = unmapped
    url = reverse("admin:inventory_productmapping_changelist")
    response = staff.post(url, {"form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": mapping.pk,
                                "form-0-product": product.pk, "_save": "Save"})
    assert response.status_code == 302
    assert_entry(only_entry("mapping.set"), actor="ops", retailer=retailer, outcome="success")
    other = ProductMapping.objects.create(retailer=retailer, provider="square", external_account_id="M",
                                          external_id="ITEM-2", external_name="Rye bread", sku="RYE-1")
    admin_action(staff, "inventory_productmapping", "create_products", [other.pk])
    entry = only_entry("mapping.create_targets")
    assert_entry(entry, actor="ops", retailer=retailer, outcome="success")
    assert entry.details["created"] == 1


def test_api_token_created_and_revoked_in_admin(staff, retailer):
    response = staff.post(reverse("admin:inventory_apitoken_add"), {"retailer": retailer.pk, "name": "replen"})
    assert response.status_code == 302
    token = ApiToken.objects.get(name="replen")
    created = only_entry("api_token.create")
    assert_entry(created, actor="ops", retailer=retailer, outcome="success")
    assert (created.details["name"], created.details["prefix"]) == ("replen", token.prefix)
    assert "key" not in created.details
    admin_action(staff, "inventory_apitoken", "revoke_tokens", [token.pk])
    admin_action(staff, "inventory_apitoken", "revoke_tokens", [token.pk])  # already revoked: nothing to record
    assert_entry(only_entry("api_token.revoke"), actor="ops", retailer=retailer, outcome="success")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_api_tokens_created_and_revoked_in_the_portal(merchant_client, retailer):
    answer = merchant_client.post(reverse("portal-account"), {"name": "forecasting"})
    assert answer.status_code == 200
    token = ApiToken.objects.get(retailer=retailer, name="forecasting")
    created = only_entry("api_token.create")
    assert_entry(created, actor="acme-merchant", retailer=retailer, outcome="success")
    assert created.details["prefix"] == token.prefix and answer.context["new_key"] not in str(created.details)
    assert merchant_client.post(reverse("portal-token-revoke", args=[token.pk])).status_code == 302
    assert_entry(only_entry("api_token.revoke"), actor="acme-merchant", retailer=retailer, outcome="success")
    merchant_client.post(reverse("portal-token-revoke", args=[token.pk]))  # already revoked: nothing happens
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_pause_and_resume_syncing_actions_in_admin(staff, retailer):
    connection = make_connection(retailer)
    for stream in ("orders", "catalog"):
        SyncSchedule.objects.create(connection=connection, stream=stream, interval_seconds=3600,
                                    next_run_at=connection.created_at)
    admin_action(staff, "integrations_connection", "pause_syncing", [connection.pk])
    paused = only_entry("sync.pause")
    assert_entry(paused, actor="ops", retailer=retailer, outcome="success", connection=connection)
    assert paused.details["streams"] == 2
    admin_action(staff, "integrations_connection", "pause_syncing", [connection.pk])  # nothing left to pause
    admin_action(staff, "integrations_connection", "resume_syncing", [connection.pk])
    assert_entry(only_entry("sync.resume"), actor="ops", retailer=retailer, outcome="success", connection=connection)
    assert AuditEntry.objects.filter(action__startswith="sync.").count() == 2


def test_matching_accept_reject_merge_and_undo_each_write_one_entry(staff, retailer):
    from decimal import Decimal

    from inventory.ingest import ingest_items, ingest_locations, ingest_sales
    from inventory.models import CatalogMerge, Store
    from inventory.records import Item, Location, SaleLine, Source
    from tests.test_ingest_mappings import T0

    sq, sh = Source(retailer.pk, "square", "M1"), Source(retailer.pk, "shopify", "acme.myshopify.com")
    # Same SKU, different valid GTINs: suggestions, never silent merges.
    ingest_items(sq, [Item("SQ0", sku="SKU-0", barcode="036000291452", name="Tea 0"),
                      Item("SQ1", sku="SKU-1", barcode="012345678905", name="Tea 1")])
    ingest_items(sh, [Item("SH0", sku="sku-0", barcode="073854008089", name="tea 0"),
                      Item("SH1", sku="sku-1", barcode="096619756803", name="tea 1")])
    for source, loc in ((sq, "L1"), (sh, "L9")):
        ingest_locations(source, [Location(loc, f"Store {loc}")])
        ingest_sales(source, [SaleLine("O1", "1", loc, {"L1": "SQ0", "L9": "SH0"}[loc], Decimal("1"), T0)])
    first, second = ProductMapping.objects.filter(provider="shopify").order_by("external_id")
    admin_action(staff, "inventory_productmapping", "accept_suggestions", [first.pk])
    accepted = only_entry("mapping.accept")
    assert_entry(accepted, actor="ops", retailer=retailer, outcome="success")
    assert accepted.details["count"] == 1
    admin_action(staff, "inventory_productmapping", "reject_suggestions", [second.pk])
    assert_entry(only_entry("mapping.reject"), actor="ops", retailer=retailer, outcome="success")

    stores = list(Store.objects.filter(retailer=retailer).order_by("pk"))
    admin_action(staff, "inventory_store", "merge_two", [s.pk for s in stores])
    merged = only_entry("catalog.merge")
    assert_entry(merged, actor="ops", retailer=retailer, outcome="success")
    record = CatalogMerge.objects.get()
    assert merged.details["merge"] == record.pk
    admin_action(staff, "inventory_catalogmerge", "undo_merges", [record.pk])
    assert_entry(only_entry("catalog.merge_undo"), actor="ops", retailer=retailer, outcome="success")
