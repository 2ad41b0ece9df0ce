"""NetSuite deletes (issue 13): the ``deletes`` stream reads NetSuite's deleted-records log (SuiteQL table
``deletedrecord``) from the sandbox by deletion date and marks the deleted items and locations deleted at source
with NetSuite's deletion time. Rows are kept; nothing is hard-deleted; reading the log again changes nothing."""

from __future__ import annotations

import pytest

from integrations.models import SyncRun
from integrations.providers.netsuite import queries
from integrations.sync import engine, services
from inventory.models import Product, ProductMapping, StoreMapping
from sandbox.data import Sizes
from sandbox.netsuite.tables import ITEM_ID_BASE

from .e2e import connect, sandbox_account

ACCOUNT = "2718281_SB1"


def run(connection, stream) -> SyncRun:
    result = engine.execute(services.create_run(connection, stream, trigger="command").pk)
    assert result.status == "succeeded", result.error
    return result


@pytest.fixture
def synced(sandbox_server, retailer):
    merchant = sandbox_account(sandbox_server, ACCOUNT, Sizes(products=10, locations=3, orders=5))
    conn = connect(sandbox_server, retailer, ACCOUNT)
    for stream in ("locations", "items"):
        run(conn, stream)
    assert StoreMapping.objects.filter(external_account_id=ACCOUNT).count() == 3
    assert ProductMapping.objects.filter(external_account_id=ACCOUNT).count() == 20
    return merchant, conn


def test_deleted_items_and_locations_are_marked_with_netsuites_deletion_time_and_kept(sandbox_server, synced):
    merchant, conn = synced
    run(conn, "deletes")  # nothing deleted yet: nothing marked
    assert not ProductMapping.objects.filter(deleted_at_source=True).exists()

    sandbox_server.edit_product("netsuite", ACCOUNT, item=3, deleted=True)
    sandbox_server.delete_location("netsuite", ACCOUNT, location=2)
    deleted_item_at = merchant.variant(3).updated_at
    deleted_location_at = merchant.overlay.deleted_locations[2]

    result = run(conn, "deletes")
    assert result.records_seen == 2
    item = ProductMapping.objects.get(external_account_id=ACCOUNT, external_id=str(ITEM_ID_BASE + 3))
    location = StoreMapping.objects.get(external_account_id=ACCOUNT, external_id="3")
    assert (item.deleted_at_source, item.deleted_at_source_at) == (True, deleted_item_at.replace(microsecond=0))
    assert (location.deleted_at_source, location.deleted_at_source_at) == (
        True, deleted_location_at.replace(microsecond=0))
    # Only those two; the rows (and the product, retired once nothing sells it) are kept.
    assert ProductMapping.objects.filter(deleted_at_source=True).count() == 1
    assert StoreMapping.objects.filter(deleted_at_source=True).count() == 1
    assert ProductMapping.objects.filter(external_account_id=ACCOUNT).count() == 20
    assert Product.objects.get(pk=item.product_id).is_active is False

    # Read again (a full re-read of the log, then the items and locations streams): nothing changes or comes back.
    stamp = (item.updated_at, location.updated_at)
    engine.execute(services.create_run(conn, "deletes", full=True, trigger="command").pk)
    run(conn, "items")
    run(conn, "locations")
    item.refresh_from_db()
    location.refresh_from_db()
    assert (item.deleted_at_source, location.deleted_at_source) == (True, True)
    assert (item.updated_at, location.updated_at) == stamp


def test_the_deletes_query_asks_for_the_synced_item_types_and_locations_by_deletion_date():
    from datetime import datetime

    query = queries.deleted_records(["assemblyitem", "inventoryitem"], datetime(2026, 10, 1, 12, 0))
    sql = query.sql(None)
    assert "FROM deletedrecord d" in sql
    assert "d.recordtypeid IN ('assemblyitem', 'inventoryitem')" in sql
    assert "d.deleteddate >= TO_TIMESTAMP('2026-10-01 12:00:00', 'YYYY-MM-DD HH24:MI:SS')" in sql
    assert "ORDER BY d.recordid" in sql
