"""Square mappers on the payload shapes of provider-facts 1.4: decimal-string quantities, money in minor units,
variations without SKU, deleted objects, one count per inventory state."""

from datetime import UTC, datetime
from decimal import Decimal

from integrations.providers.square import mappers

ORDER = {
    "id": "ORD-1",
    "location_id": "L1",
    "state": "COMPLETED",
    "created_at": "2026-10-01T10:00:00Z",
    "closed_at": "2026-10-01T10:05:00.250Z",
    "updated_at": "2026-10-01T10:06:00Z",
    "version": 3,
    "total_money": {"amount": 3148, "currency": "USD"},
    "line_items": [
        {"uid": "li-1", "name": "Coffee beans", "quantity": "1.5", "catalog_object_id": "VAR-1",
         "base_price_money": {"amount": 1999, "currency": "USD"},
         "total_money": {"amount": 2999, "currency": "USD"}},
        {"uid": "li-2", "name": "Custom amount", "quantity": "1",
         "base_price_money": {"amount": 150, "currency": "USD"}},
    ],
}


def test_order_lines_keep_decimal_quantities_and_convert_minor_units():
    first, custom = mappers.map_order(ORDER)
    assert first.quantity == Decimal("1.5")
    assert first.unit_price == Decimal("19.99")
    assert first.currency == "USD"
    assert (first.order_external_id, first.line_external_id) == ("ORD-1", "li-1")
    assert first.location_external_id == "L1" and first.item_external_id == "VAR-1"
    assert first.occurred_at == datetime(2026, 10, 1, 10, 5, 0, 250000, tzinfo=UTC)
    assert first.order_updated_at == datetime(2026, 10, 1, 10, 6, tzinfo=UTC)
    assert first.state == "completed"
    # A custom-amount line has no catalog object: it is kept (held by ingest), never dropped.
    assert custom.item_external_id == "" and custom.unit_price == Decimal("1.50")


def test_money_uses_the_currency_exponent():
    assert mappers.money_to_decimal({"amount": 500, "currency": "JPY"}) == (Decimal(500), "JPY")
    assert mappers.money_to_decimal({"amount": 1500, "currency": "KWD"}) == (Decimal("1.5"), "KWD")
    assert mappers.money_to_decimal({"amount": -250, "currency": "EUR"}) == (Decimal("-2.5"), "EUR")
    assert mappers.money_to_decimal(None) == (None, "")


def test_cancelled_orders_map_to_cancelled_lines_and_drafts_to_nothing():
    assert {line.state for line in mappers.map_order({**ORDER, "state": "CANCELED"})} == {"cancelled"}
    assert mappers.map_order({**ORDER, "state": "DRAFT"}) == []


def test_line_without_uid_gets_a_stable_position_id():
    order = {**ORDER, "line_items": [{"quantity": "2", "catalog_object_id": "VAR-9"}]}
    assert mappers.map_order(order)[0].line_external_id == "#0"


def _variation(obj_id, item_id, **data):
    return {"type": "ITEM_VARIATION", "id": obj_id, "updated_at": "2026-10-02T00:00:00Z", "version": 1,
            "is_deleted": False, "item_variation_data": {"item_id": item_id, **data}}


def test_catalog_variations_take_parent_names_upc_as_barcode_and_missing_sku_as_empty():
    related = [{"type": "ITEM", "id": "IT-1", "item_data": {"name": "Cold Brew"}}]
    objects = [_variation("VAR-1", "IT-1", name="Large", sku=" CB-L ", upc="012345678905"),
               _variation("VAR-2", "IT-1", name="Small")]
    items = {i.external_id: i for i in mappers.map_catalog_objects(objects, related)}
    assert items["VAR-1"].name == "Cold Brew - Large"
    assert items["VAR-1"].sku == "CB-L" and items["VAR-1"].barcode == "012345678905"
    assert items["VAR-2"].sku == "" and items["VAR-2"].barcode == ""
    assert items["VAR-2"].updated_at == datetime(2026, 10, 2, tzinfo=UTC)


def test_deleted_variations_and_variations_of_deleted_items_are_marked_deleted():
    deleted_item = {"type": "ITEM", "id": "IT-2", "is_deleted": True, "updated_at": "2026-10-03T00:00:00Z",
                    "item_data": {"name": "Gone", "variations": [_variation("VAR-3", "IT-2", name="Only")]}}
    objects = [{**_variation("VAR-1", "IT-1"), "is_deleted": True}, deleted_item]
    items = {i.external_id: i for i in mappers.map_catalog_objects(objects)}
    assert items["VAR-1"].deleted and items["VAR-3"].deleted
    assert items["VAR-3"].name == "Gone - Only"


def test_inventory_counts_merge_states_per_location_and_variation():
    counts = [
        {"catalog_object_id": "VAR-1", "catalog_object_type": "ITEM_VARIATION", "state": "IN_STOCK",
         "location_id": "L1", "quantity": "12.5", "calculated_at": "2026-10-04T01:00:00Z"},
        {"catalog_object_id": "VAR-1", "catalog_object_type": "ITEM_VARIATION", "state": "RESERVED_FOR_SALE",
         "location_id": "L1", "quantity": "2", "calculated_at": "2026-10-04T02:00:00Z"},
        {"catalog_object_id": "VAR-1", "catalog_object_type": "ITEM_VARIATION", "state": "SOLD",
         "location_id": "L1", "quantity": "40", "calculated_at": "2026-10-04T03:00:00Z"},
        {"catalog_object_id": "VAR-2", "catalog_object_type": "ITEM_VARIATION", "state": "IN_STOCK",
         "location_id": "L2", "quantity": "0", "calculated_at": "2026-10-04T00:00:00Z"},
    ]
    levels = {(s.location_external_id, s.item_external_id): s for s in mappers.map_inventory_counts(counts)}
    assert set(levels) == {("L1", "VAR-1"), ("L2", "VAR-2")}
    level = levels[("L1", "VAR-1")]
    # Disjoint states: on hand is what is for sale plus what is reserved.
    assert level.available == Decimal("12.5") and level.on_hand == Decimal("14.5")
    assert level.committed == Decimal("2")
    assert level.incoming is None  # not reported: ingest keeps the stored value
    assert level.as_of == datetime(2026, 10, 4, 2, tzinfo=UTC)  # SOLD is history, not a level


def test_location_address_and_status():
    loc = mappers.map_location({"id": "L1", "name": "Main St", "status": "INACTIVE", "timezone": "America/Denver",
                                "address": {"address_line_1": "1 Main St", "locality": "Denver",
                                            "administrative_district_level_1": "CO", "postal_code": "80202"}})
    assert (loc.external_id, loc.name, loc.timezone) == ("L1", "Main St", "America/Denver")
    assert loc.address == "1 Main St, Denver, CO, 80202" and loc.active is False


def test_transfers_in_transit_are_incoming_under_either_name():
    counts = [{"catalog_object_id": "VAR-1", "catalog_object_type": "ITEM_VARIATION", "state": state,
               "location_id": "L1", "quantity": qty, "calculated_at": "2026-10-04T01:00:00Z"}
              for state, qty in (("IN_TRANSIT", "3"), ("IN_TRANSIT_TO", "1"))]
    (level,) = mappers.map_inventory_counts(counts)
    assert level.incoming == Decimal("4") and level.available is None and level.on_hand is None


def test_every_inventory_state_of_the_pinned_sdk_is_either_stock_or_deliberately_not():
    import typing

    from square.types.inventory_state import InventoryState

    sdk_states = set(typing.get_args(typing.get_args(InventoryState)[0]))
    assert set(mappers._STATE_FIELDS) | set(mappers.NOT_STOCK_STATES) == sdk_states
    assert not set(mappers._STATE_FIELDS) & set(mappers.NOT_STOCK_STATES)
