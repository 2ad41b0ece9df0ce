"""SuiteQL rows -> records: the NetSuite conventions the mappers must undo."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from integrations.providers.netsuite import mappers

HEADER = {"id": "9001", "tranid": "CS-1", "type": "CashSale", "currency": "EUR", "trandate": "2026-10-05",
          "lastmodified": "2026-10-05 14:30:00"}


def test_sale_quantities_and_amounts_are_sign_corrected():
    # NetSuite stores a sale of 2 at 9.99 as quantity -2, foreignamount -19.98.
    line = {"transaction": "9001", "id": "3", "item": "55", "sku": "SKU-55", "location": "2", "quantity": "-2",
            "foreignamount": "-19.98"}
    [sale] = mappers.map_sales([HEADER], [line])
    assert sale.quantity == Decimal("2")
    assert sale.unit_price == Decimal("9.99")
    assert sale.currency == "EUR"  # the transaction's currency, not the account's base currency
    assert (sale.order_external_id, sale.line_external_id, sale.item_external_id, sale.location_external_id) == (
        "9001", "3", "55", "2")
    assert sale.state == "completed"


def test_rate_is_the_unit_price_when_present_and_a_return_line_stays_negative():
    line = {"transaction": "9001", "id": "4", "item": "55", "quantity": 1, "rate": 4.5, "foreignamount": 4.5}
    [sale] = mappers.map_sales([HEADER], [line])
    assert sale.quantity == Decimal("-1") and sale.unit_price == Decimal("4.5")


@pytest.mark.parametrize(("header", "state"), [
    ({"type": "SalesOrd", "status": "B"}, "open"),
    ({"type": "SalesOrd", "status": "C"}, "cancelled"),
    ({"type": "SalesOrd", "status": "G"}, "completed"),
    ({"type": "CustInvc", "status": "A"}, "completed"),
    ({"type": "CustInvc", "status": "A", "voided": "T"}, "cancelled"),
])
def test_sale_states(header, state):
    assert mappers.sale_state(header) == state


def test_times_are_read_in_the_session_zone():
    zone = ZoneInfo("America/Chicago")
    [sale] = mappers.map_sales([HEADER], [{"transaction": "9001", "id": "1", "item": "5", "quantity": "-1"}], zone)
    assert sale.order_updated_at == datetime(2026, 10, 5, 19, 30, tzinfo=UTC)
    assert sale.occurred_at == datetime(2026, 10, 5, 5, 0, tzinfo=UTC)  # midnight in Chicago (CDT)
    assert mappers.to_session_time(sale.order_updated_at, zone) == datetime(2026, 10, 5, 14, 30)


def test_stock_row_with_omitted_nulls_reads_as_zero():
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    level = mappers.map_stock({"item": "7", "location": "3", "quantityonhand": "12", "quantityavailable": "10"}, as_of)
    assert (level.on_hand, level.available, level.committed, level.incoming) == (12, 10, 0, 0)
    assert (level.item_external_id, level.location_external_id) == ("7", "3")


def test_item_sku_barcode_and_inactive():
    item = mappers.map_item({"id": "7", "itemid": " SKU-7 ", "upccode": "012345678905", "isinactive": "T",
                             "lastmodified": "2026-09-01 00:00:00"})
    assert (item.sku, item.barcode, item.name, item.deleted) == ("SKU-7", "012345678905", "SKU-7", True)


def test_a_line_of_an_unknown_transaction_is_not_invented():
    assert mappers.map_sales([HEADER], [{"transaction": "1", "id": "1", "quantity": "-1"}]) == []
