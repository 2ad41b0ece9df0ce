"""Ingest of sales lines: idempotent upserts keyed by provider ids, edits, cancellations, out-of-order safety,
held lines attached when their mapping resolves. Runs on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from inventory.ingest import ingest_items, ingest_locations, ingest_sales
from inventory.models import Product, ProductMapping, StoreMapping, Transaction
from inventory.records import Item, Location, SaleLine, Source

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def source(retailer):
    return Source(retailer_id=retailer.pk, provider="square", external_account_id="MERCHANT1")


def line(order="O1", line_id="L1", qty="1.5", item="V1", location="LOC1", updated=T0, state="completed", **kw):
    return SaleLine(
        order_external_id=order,
        line_external_id=line_id,
        location_external_id=location,
        item_external_id=item,
        quantity=Decimal(qty),
        occurred_at=T0,
        unit_price=kw.pop("unit_price", Decimal("4.99")),
        currency=kw.pop("currency", "USD"),
        order_updated_at=updated,
        state=state,
        **kw,
    )


@pytest.fixture
def catalog(source):
    ingest_locations(source, [Location(external_id="LOC1", name="Main Street")])
    ingest_items(source, [Item(external_id="V1", sku="SKU-1", barcode="012345678905", name="Oat milk")])


def test_same_line_twice_is_one_row_and_second_run_writes_nothing(source, catalog):
    first = ingest_sales(source, [line(), line(line_id="L2", qty="2")])
    assert (first.created, first.updated, first.unchanged, first.held) == (2, 0, 0, 0)
    stamp = Transaction.objects.get(external_line_id="L1").updated_at

    again = ingest_sales(source, [line(), line(line_id="L2", qty="2")])

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Transaction.objects.count() == 2
    assert Transaction.objects.get(external_line_id="L1").updated_at == stamp  # nothing written


def test_decimal_quantity_price_currency_and_resolved_store_product(source, catalog):
    ingest_sales(source, [line(qty="1.5", unit_price=Decimal("12.3400"), currency="eur")])
    txn = Transaction.objects.get()
    assert txn.quantity == Decimal("1.5")
    assert txn.unit_price == Decimal("12.34")
    assert txn.currency == "EUR"
    assert txn.store.name == "Main Street"
    assert txn.product.barcode == "012345678905"
    assert txn.retailer_id == source.retailer_id


def test_order_edit_updates_line_in_place(source, catalog):
    ingest_sales(source, [line(qty="1")])
    counts = ingest_sales(source, [line(qty="3", updated=T0 + timedelta(minutes=5))])
    assert (counts.created, counts.updated) == (0, 1)
    assert Transaction.objects.get().quantity == Decimal("3")


def test_older_order_version_never_overwrites_newer(source, catalog):
    ingest_sales(source, [line(qty="3", updated=T0 + timedelta(minutes=5))])
    stale = ingest_sales(source, [line(qty="1", updated=T0)])
    assert (stale.updated, stale.unchanged) == (0, 1)
    assert Transaction.objects.get().quantity == Decimal("3")


def test_cancellation_updates_state(source, catalog):
    ingest_sales(source, [line()])
    ingest_sales(source, [line(state="CANCELED", updated=T0 + timedelta(hours=1))])
    assert Transaction.objects.get().state == Transaction.State.CANCELLED


def test_replace_orders_cancels_lines_no_longer_present(source, catalog):
    ingest_sales(source, [line(line_id="L1"), line(line_id="L2"), line(order="O2", line_id="X1")])
    counts = ingest_sales(source, [line(line_id="L1", updated=T0 + timedelta(minutes=1))], replace_orders=True)
    assert counts.removed == 1
    removed = Transaction.objects.get(external_line_id="L2")
    assert (removed.state, removed.quantity) == ("cancelled", Decimal("0"))
    assert Transaction.objects.get(external_line_id="L1").state == "completed"
    assert Transaction.objects.get(external_order_id="O2").state == "completed"  # other orders untouched
    # A stale replay of an older order version must not cancel lines of the newer one.
    ingest_sales(source, [line(line_id="L3", updated=T0 + timedelta(minutes=9))])
    stale = ingest_sales(source, [line(line_id="L1", updated=T0)], replace_orders=True)
    assert stale.removed == 0
    assert Transaction.objects.get(external_line_id="L3").state == "completed"


def test_unknown_item_is_held_then_attached_when_item_arrives(source, catalog):
    counts = ingest_sales(source, [line(item="V-NEW", sku="SKU-NEW")])
    assert counts.held == 1
    txn = Transaction.objects.get()
    assert txn.product_id is None and txn.product_mapping.external_id == "V-NEW"
    assert txn.product_mapping.sku == "SKU-NEW"

    ingest_items(source, [Item(external_id="V-NEW", sku="SKU-NEW", name="New thing")])

    txn.refresh_from_db()
    assert txn.product is not None and txn.product.sku == "SKU-NEW"


def test_unknown_location_is_held_then_attached_when_location_ingested(source, catalog):
    ingest_sales(source, [line(location="LOC-NEW")])
    assert Transaction.objects.get().store_id is None
    ingest_locations(source, [Location(external_id="LOC-NEW", name="Airport")])
    assert Transaction.objects.get().store.name == "Airport"


def test_bad_records_are_reported_not_stored_and_do_not_stop_the_batch(source, catalog):
    bad_qty = line(line_id="BAD")
    object.__setattr__(bad_qty, "quantity", "lots")
    naive = line(line_id="NAIVE")
    object.__setattr__(naive, "occurred_at", datetime(2026, 1, 1))
    counts = ingest_sales(source, [bad_qty, naive, line(line_id="OK")])
    assert counts.created == 1
    assert len(counts.errors) == 2
    assert "quantity" in counts.errors[0] and "occurred_at" in counts.errors[1]


def test_string_quantity_is_accepted_as_decimal(source, catalog):
    odd = line()
    object.__setattr__(odd, "quantity", "1.5")
    ingest_sales(source, [odd])
    assert Transaction.objects.get().quantity == Decimal("1.5")


def test_tenant_and_account_scoping(source, catalog, other_retailer):
    other = Source(retailer_id=other_retailer.pk, provider="square", external_account_id="MERCHANT2")
    ingest_sales(other, [line()])
    ingest_sales(source, [line()])
    assert Transaction.objects.count() == 2
    assert Transaction.objects.get(external_account_id="MERCHANT2").product_id is None  # not our catalog
    assert not Product.objects.filter(retailer=other_retailer).exists()
    assert StoreMapping.objects.filter(retailer=other_retailer).count() == 1
    assert ProductMapping.objects.filter(retailer=other_retailer, product__isnull=True).count() == 1


def test_replace_orders_never_splits_an_order_across_internal_batches(source, catalog, settings):
    settings.INGEST_BATCH_SIZE = 2
    order = [line(line_id=f"L{i}") for i in range(5)]
    ingest_sales(source, order)
    counts = ingest_sales(source, [*order, line(order="O2", line_id="X")], replace_orders=True)
    assert counts.removed == 0
    assert not Transaction.objects.filter(state="cancelled").exists()


@pytest.mark.parametrize("copy_threshold", [1, 10**9], ids=["stage", "values"])
def test_replace_orders_cancels_the_same_lines_through_the_stage_and_through_parameters(
    source, catalog, settings, monkeypatch, copy_threshold
):
    """On PostgreSQL a batch upserted through the stage table finds its orders' missing lines from the stage;
    smaller batches (and SQLite) send them as parameters. Both must cancel the same lines, and with several batches
    in one transaction (the test's) the stage must hold only the current batch."""
    from inventory.ingest import upsert

    monkeypatch.setattr(upsert, "COPY_THRESHOLD", copy_threshold)
    settings.INGEST_BATCH_SIZE = 3
    later = T0 + timedelta(minutes=5)
    ingest_sales(source, [line(order=o, line_id=f"L{i}") for o in ("O1", "O2", "O3") for i in range(3)])
    # O1 lost L2; O2 is unchanged; O3 lists only L2, in a version older than the one stored for L2: its stored L0
    # and L1 (not newer than that version) are cancelled, L2 (newer) is left alone.
    ingest_sales(source, [line(order="O3", line_id="L2", updated=later)])
    counts = ingest_sales(source, [
        line(order="O1", line_id="L0", updated=later), line(order="O1", line_id="L1", updated=later),
        *[line(order="O2", line_id=f"L{i}") for i in range(3)],
        line(order="O3", line_id="L2", updated=T0),
    ], replace_orders=True)
    cancelled = set(Transaction.objects.filter(state="cancelled").values_list("external_order_id", "external_line_id"))
    assert cancelled == {("O1", "L2"), ("O3", "L0"), ("O3", "L1")} and counts.removed == 3
    assert Transaction.objects.get(external_order_id="O3", external_line_id="L2").order_updated_at == later
    assert Transaction.objects.get(external_order_id="O1", external_line_id="L2").quantity == 0


def test_prepared_lines_ingest_like_raw_lines_errors_included(source, catalog):
    """The sync engine checks and deduplicates a page on its fetching thread (prepare_sales) and ingests the
    result: same rows, counts and errors as ingesting the raw lines."""
    from inventory.ingest import prepare_sales

    bad = line(order="O2", line_id="BAD")
    object.__setattr__(bad, "quantity", "lots")
    newer = line(line_id="L1", qty="3", updated=T0 + timedelta(minutes=1))
    prepared = prepare_sales([line(line_id="L1"), newer, line(line_id="L2"), bad], replace_orders=True)
    assert [len(batch) for batch in prepared.batches] == [2]  # L1 twice: the newer version kept
    counts = ingest_sales(source, prepared, replace_orders=True)
    assert (counts.created, counts.held, len(counts.errors)) == (2, 0, 1) and "quantity" in counts.errors[0]
    assert Transaction.objects.get(external_line_id="L1").quantity == Decimal("3")
    with pytest.raises(ValueError):
        ingest_sales(source, prepare_sales([line()]), replace_orders=True)
