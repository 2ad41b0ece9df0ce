"""The stock check (``reconcile_stock``): comparison and healing.

The comparison is pure (``integrations.sync.drift``); the runs go through the real engine, client and ingest with
Square's HTTP answers from ``responses``. The ordering tests pin down the rule that a stale snapshot never wins over a
newer update that arrived while the check ran, whether it lands before the comparison or between it and the heal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import responses

from integrations.models import SyncRun, SyncSchedule
from integrations.providers import get_provider
from integrations.sync import drift, engine, services
from integrations.sync.reconcile import NAME, StockReconciliation
from inventory.ingest import ingest_stock
from inventory.models import InventoryLevel
from inventory.records import Source, StockLevel
from inventory.stock_levels import StoredLevel, stored_levels

BASE = "https://square.example.test"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def square_at_test_host(settings):
    settings.SQUARE_BASE_URL = BASE
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0
    settings.HTTP_BACKOFF_MAX_SECONDS = 0.0


def level(loc, item, as_of=T0, secondary=False, **quantities):
    return StockLevel(location_external_id=loc, item_external_id=item, as_of=as_of, item_id_is_secondary=secondary,
                      **{k: Decimal(str(v)) for k, v in quantities.items()})


def stored(loc, item, as_of=T0, secondary_id="", deleted=False, **quantities):
    values = {q: (Decimal(str(quantities[q])) if q in quantities else None)
              for q in ("available", "on_hand", "committed", "incoming")}
    return StoredLevel(loc, item, secondary_id, values, as_of, deleted)


# --- comparison (pure) --------------------------------------------------------------------------------------------
def test_compare_counts_each_kind_of_drift_and_heals_only_from_the_snapshot():
    snapshot = drift.merge_snapshot([
        level("L1", "A", available=10, on_hand=10),  # same
        level("L1", "B", available=15, on_hand=15),  # ours 10: +5
        level("L2", "B", available=3, on_hand=5),  # ours 7/7: -4 available, -2 on hand -> 4
        level("L2", "C", available=1),  # not stored here
        level("L3", "A", as_of=T0 - timedelta(minutes=5), available=99),  # ours is newer: left alone
    ])
    ours = [
        stored("L1", "A", available=10, on_hand=10), stored("L1", "B", available=10, on_hand=10),
        stored("L2", "B", available=7, on_hand=7), stored("L3", "A", available=4),
        stored("L9", "Z", available=2),  # the provider no longer reports it
        stored("L9", "GONE", available=2, deleted=True),  # deleted at source: expected absent
    ]
    report, heal = drift.compare(snapshot, ours)
    out = report.as_json()
    assert {k: out[k] for k in ("checked", "matching", "drifted", "missing_here", "missing_at_provider",
                                "newer_here", "healed")} == {
        "checked": 5, "matching": 1, "drifted": 2, "missing_here": 1, "missing_at_provider": 1, "newer_here": 1,
        "healed": 3}
    assert (out["total_difference"], out["largest_difference"]) == ("9", "5")
    assert [(r.location_external_id, r.item_external_id) for r in heal] == [("L1", "B"), ("L2", "B"), ("L2", "C")]
    # The sample: largest difference first, ours vs theirs, then what is missing here.
    first, second, missing = out["sample"]
    assert (first["location"], first["item"], first["difference"]) == ("L1", "B", "5")
    assert first["ours"]["available"] == "10" and first["theirs"]["available"] == "15"
    assert (second["item"], second["difference"]) == ("B", "4")
    assert missing == {"location": "L2", "item": "C", "ours": None, "theirs": {
        "available": "1", "on_hand": None, "committed": None, "incoming": None}, "difference": None}
    assert out["missing_at_provider_sample"][0]["item"] == "Z"
    assert drift.summary(out) == ("2 of 5 levels differed (total 9, largest 5); 1 missing here; "
                                  "1 missing at the provider; 3 healed")


def test_compare_finds_no_drift_when_levels_agree():
    snapshot = drift.merge_snapshot([level("L1", "A", available=3, committed=1)])
    report, heal = drift.compare(snapshot, [stored("L1", "A", available=3, committed=1, on_hand=4)])
    assert (report.drifted, report.matching, heal) == (0, 1, [])
    assert drift.summary(report.as_json()) == "no drift in 1 levels"


def test_compare_matches_levels_keyed_by_the_providers_secondary_id():
    # Shopify levels name the inventory item (our mapping's secondary id), not the variant.
    snapshot = drift.merge_snapshot([level("L1", "INV-7", secondary=True, available=4)])
    report, heal = drift.compare(snapshot, [stored("L1", "VAR-7", secondary_id="INV-7", available=6)])
    assert (report.drifted, report.missing_here, report.missing_at_provider) == (1, 0, 0)
    assert heal[0].item_external_id == "INV-7"


def test_snapshot_merges_states_reported_in_separate_records():
    later = T0 + timedelta(seconds=1)
    merged = drift.merge_snapshot([level("L1", "A", as_of=later, committed=2), level("L1", "A", available=5)])
    (only,) = merged.values()
    assert (only.available, only.committed, only.as_of) == (Decimal(5), Decimal(2), later)


def test_sample_is_bounded_but_figures_count_everything():
    snapshot = drift.merge_snapshot([level("L1", f"I{n:03d}", available=n + 1) for n in range(60)])
    report, heal = drift.compare(snapshot, [stored("L1", f"I{n:03d}", available=0) for n in range(60)])
    out = report.as_json()
    assert out["drifted"] == 60 and len(heal) == 60 and len(out["sample"]) == drift.SAMPLE_SIZE
    assert out["sample"][0]["difference"] == "60" and out["largest_difference"] == "60"
    assert out["total_difference"] == str(sum(range(1, 61)))


def test_compare_fails_on_a_difference_in_any_reported_quantity():
    snapshot = drift.merge_snapshot([level("L1", "A", available=3, incoming=7)])
    report, _ = drift.compare(snapshot, [stored("L1", "A", available=3, incoming=2)])
    assert report.drifted == 1 and report.as_json()["largest_difference"] == "5"


# --- through the engine ---------------------------------------------------------------------------------------
def counts(*rows):
    """Square InventoryCount objects: (location, variation, state, quantity, calculated_at)."""
    return {"counts": [{"catalog_object_id": item, "catalog_object_type": "ITEM_VARIATION", "state": state,
                        "location_id": loc, "quantity": qty, "calculated_at": at}
                       for loc, item, state, qty, at in rows]}


def source_of(connection):
    return Source(connection.retailer_id, connection.provider, connection.external_account_id)


def seed_ours(connection, *levels):
    ingest_stock(source_of(connection), list(levels))


def ours(connection, loc, item):
    return InventoryLevel.objects.get(store_mapping__external_id=loc, product_mapping__external_id=item,
                                      store_mapping__external_account_id=connection.external_account_id)


def run_check(connection):
    queued = services.create_run(connection, NAME, trigger="manual")
    return engine.execute(queued.pk)


# Transactional: on PostgreSQL the engine reads pages on a prefetch thread (its own database connection), which
# must see the levels seeded here, as it sees committed rows in production.
@pytest.mark.django_db(transaction=True)
def test_run_records_drift_heals_from_the_snapshot_and_a_second_run_records_zero(square_connection):
    seed_ours(square_connection, level("L1", "A", available=10, on_hand=10),
              level("L1", "B", available=7, on_hand=7), level("L1", "Z", available=1, on_hand=1))
    later = "2026-11-01T13:00:00Z"
    snapshot = counts(("L1", "A", "IN_STOCK", "10", "2026-11-01T12:00:00Z"),
                      ("L1", "B", "IN_STOCK", "3", later), ("L2", "C", "IN_STOCK", "4", later))
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", json=snapshot)
        first = run_check(square_connection)
        (body,) = [c.request.body for c in rsps.calls]
    assert first.status == "succeeded", first.error
    assert b"updated_after" not in body  # a full snapshot, never a delta
    assert (first.drift["drifted"], first.drift["missing_here"], first.drift["missing_at_provider"]) == (1, 1, 1)
    assert (first.drift["total_difference"], first.drift["largest_difference"]) == ("4", "4")
    assert first.records_seen == 2 and first.records_created == 1 and first.records_updated == 1
    assert ours(square_connection, "L1", "B").available == 3
    assert ours(square_connection, "L2", "C").available == 4
    assert ours(square_connection, "L1", "Z").available == 1  # recorded, never zeroed on a guess
    assert SyncRun.objects.get(pk=first.pk).drift == first.drift  # saved on the run, not only returned

    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", json=snapshot)
        second = run_check(square_connection)
    assert second.status == "succeeded"
    assert (second.drift["drifted"], second.drift["missing_here"], second.drift["healed"]) == (0, 0, 0)
    assert second.drift["total_difference"] == "0" and second.records_seen == 0


def test_a_webhook_update_arriving_before_the_comparison_is_not_drift(square_connection):
    seed_ours(square_connection, level("L1", "B", available=7, on_hand=7))
    stale = counts(("L1", "B", "IN_STOCK", "3", "2026-11-01T12:30:00Z"))
    newer = level("L1", "B", as_of=datetime(2026, 11, 1, 12, 45, tzinfo=UTC), available=9, on_hand=9)

    class WebhookDuringRead(StockReconciliation):
        snapshot_stream = get_provider("square").streams()["inventory"]

        def snapshot(self):
            taken = super().snapshot()
            seed_ours(self.connection, newer)  # the webhook lands after the provider answered
            return taken

    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", json=stale)
        (page,) = list(WebhookDuringRead(square_connection, _client(square_connection)).pages(None))
    assert page.records == []
    assert (page.drift["drifted"], page.drift["newer_here"], page.drift["healed"]) == (0, 1, 0)
    assert ours(square_connection, "L1", "B").available == 9


def test_a_webhook_update_between_comparison_and_heal_still_wins(square_connection):
    seed_ours(square_connection, level("L1", "B", available=7, on_hand=7))
    stale = counts(("L1", "B", "IN_STOCK", "3", "2026-11-01T12:30:00Z"))
    stream = get_provider("square").streams()[NAME](square_connection, _client(square_connection))
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve", json=stale)
        (heal_page,) = list(stream.pages(None))
    assert heal_page.drift["drifted"] == 1 and len(heal_page.records) == 1
    # The update arrives now, after the comparison, before the engine writes the heal page.
    seed_ours(square_connection, level("L1", "B", as_of=datetime(2026, 11, 1, 12, 45, tzinfo=UTC), available=9,
                                       on_hand=9))
    ingest_stock(source_of(square_connection), heal_page.records)
    assert ours(square_connection, "L1", "B").available == 9


def test_stored_levels_are_the_sources_own(square_connection, retailer):
    seed_ours(square_connection, level("L1", "A", available=1))
    other = Source(retailer.pk, "square", "ANOTHER-MERCHANT")
    ingest_stock(other, [level("L1", "A", available=5)])
    (only,) = stored_levels(source_of(square_connection))
    assert (only.location_external_id, only.item_external_id, only.quantities["available"]) == ("L1", "A", 1)


def _client(connection):
    from integrations.http import client_for

    return client_for(connection)


# --- a stream like the others: scheduled, triggerable, not part of "sync now" -------------------------------------
def test_the_check_is_scheduled_daily_but_not_queued_with_every_stream(square_connection):
    for key in ("square", "shopify", "netsuite"):
        provider = get_provider(key)
        assert provider.schedule_defaults[NAME] == 86400 and NAME in provider.streams()
    assert NAME not in services.stream_names(square_connection)
    assert NAME in services.all_stream_names(square_connection)
    queued = services.request_all(square_connection, trigger="manual")
    assert NAME not in {r.stream for r in queued}
    assert services.create_run(square_connection, NAME, trigger="manual").stream == NAME
    assert not SyncSchedule.objects.filter(connection=square_connection).exists()  # made at connect, not here


def test_connections_made_before_the_check_existed_get_its_schedule(square_connection):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("integrations.migrations.0008_schedule_new_streams")
    kept = SyncSchedule.objects.create(connection=square_connection, stream="inventory", interval_seconds=120,
                                       next_run_at=T0)
    before = datetime.now(UTC)
    migration.add_missing_schedules(apps, None)
    schedules = {s.stream: s for s in SyncSchedule.objects.filter(connection=square_connection)}
    assert set(schedules) == set(get_provider("square").schedule_defaults)
    assert (schedules["inventory"].interval_seconds, schedules["inventory"].next_run_at) == (120, T0)  # staff's
    check = schedules[NAME]
    assert check.interval_seconds == 86400 and check.next_run_at >= before + timedelta(seconds=86400)
    assert kept.pk == schedules["inventory"].pk


@pytest.mark.django_db(transaction=True)
def test_the_sync_command_runs_the_check_by_name_and_prints_its_drift(square_connection):
    from io import StringIO

    from django.core.management import call_command

    seed_ours(square_connection, level("L1", "B", available=7, on_hand=7))
    out = StringIO()
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/v2/inventory/counts/batch-retrieve",
                  json=counts(("L1", "B", "IN_STOCK", "3", "2026-11-01T13:00:00Z")))
        call_command("sync", str(square_connection.pk), "--stream", NAME, "--no-progress", stdout=out)
    assert f"{NAME}: succeeded" in out.getvalue()
    assert "1 of 1 levels differed (total 4, largest 4); 1 healed" in out.getvalue()
    assert ours(square_connection, "L1", "B").available == 3
