"""Shopify GraphQL mappers on the shapes of provider-facts 2.4: GIDs, money as decimal strings in shopMoney,
``quantities(names: [...])``, variants without SKU, cancelled and edited orders."""

from datetime import UTC, datetime
from decimal import Decimal

from integrations.providers.shopify import mappers


def test_variant_uses_numeric_ids_and_inventory_item_as_secondary_id():
    item = mappers.map_variant({
        "id": "gid://shopify/ProductVariant/111", "sku": None, "barcode": "0123456789012", "title": "Large",
        "updatedAt": "2026-10-01T00:00:00Z", "product": {"title": "Cold Brew"},
        "inventoryItem": {"id": "gid://shopify/InventoryItem/222"},
    })
    assert (item.external_id, item.secondary_id) == ("111", "222")
    assert item.sku == "" and item.barcode == "0123456789012"
    assert item.name == "Cold Brew - Large"
    assert item.updated_at == datetime(2026, 10, 1, tzinfo=UTC)


def test_default_title_variant_is_named_after_the_product():
    item = mappers.map_variant({"id": "gid://shopify/ProductVariant/1", "title": "Default Title",
                                "product": {"title": "Tea"}, "inventoryItem": None})
    assert item.name == "Tea" and item.secondary_id == ""


def test_inventory_level_quantities_by_name():
    level = mappers.map_inventory_level({
        "updatedAt": "2026-10-02T03:04:05Z", "item": {"id": "gid://shopify/InventoryItem/222"},
        "quantities": [{"name": "available", "quantity": 7}, {"name": "on_hand", "quantity": 9},
                       {"name": "committed", "quantity": 2}, {"name": "incoming", "quantity": 0}],
    }, "gid://shopify/Location/5")
    assert (level.location_external_id, level.item_external_id) == ("5", "222")
    assert level.item_id_is_secondary
    assert (level.available, level.on_hand, level.committed, level.incoming) == (
        Decimal(7), Decimal(9), Decimal(2), Decimal(0))


def test_inventory_level_missing_quantity_names_stay_unreported():
    level = mappers.map_inventory_level({"updatedAt": "2026-10-02T00:00:00Z", "item": {"id": "9"},
                                         "location": {"id": "gid://shopify/Location/3"},
                                         "quantities": [{"name": "available", "quantity": 4}]})
    assert level.location_external_id == "3"
    assert level.available == Decimal(4) and level.on_hand is None and level.incoming is None


ORDER = {
    "id": "gid://shopify/Order/900", "createdAt": "2026-10-03T10:00:00Z", "processedAt": "2026-10-03T09:59:00Z",
    "updatedAt": "2026-10-03T11:00:00Z", "cancelledAt": None, "displayFinancialStatus": "PAID",
    "currencyCode": "CAD", "retailLocation": {"id": "gid://shopify/Location/5"},
    "lineItems": {"nodes": [
        {"id": "gid://shopify/LineItem/1", "sku": "CB-L", "quantity": 3, "currentQuantity": 2,
         "variant": {"id": "gid://shopify/ProductVariant/111"},
         "originalUnitPriceSet": {"shopMoney": {"amount": "12.50", "currencyCode": "CAD"}}},
        {"id": "gid://shopify/LineItem/2", "sku": None, "quantity": 1, "variant": None,
         "originalUnitPriceSet": {"shopMoney": {"amount": "0.99", "currencyCode": "CAD"}}},
    ], "pageInfo": {"hasNextPage": False, "endCursor": None}},
}


def test_order_lines_money_strings_and_current_quantity_after_edit():
    edited, custom = mappers.map_order(ORDER)
    assert (edited.order_external_id, edited.line_external_id) == ("900", "1")
    assert edited.quantity == Decimal(2)  # currentQuantity: the order was edited from 3 to 2
    assert edited.unit_price == Decimal("12.50") and edited.currency == "CAD"
    assert edited.location_external_id == "5" and edited.item_external_id == "111" and edited.sku == "CB-L"
    assert edited.occurred_at == datetime(2026, 10, 3, 9, 59, tzinfo=UTC)
    assert edited.state == "completed"
    assert custom.item_external_id == "" and custom.sku == "" and custom.quantity == Decimal(1)


def test_cancelled_and_refunded_orders():
    cancelled = mappers.map_order({**ORDER, "cancelledAt": "2026-10-04T00:00:00Z"})
    assert {line.state for line in cancelled} == {"cancelled"}
    refunded = mappers.map_order({**ORDER, "displayFinancialStatus": "REFUNDED"})
    assert {line.state for line in refunded} == {"refunded"}


def test_bulk_rows_pass_line_items_separately_and_online_orders_have_no_location():
    children = [{"id": "gid://shopify/LineItem/7", "quantity": 1, "__parentId": ORDER["id"],
                 "variant": {"id": "gid://shopify/ProductVariant/5"}, "originalUnitPriceSet": None}]
    order = {k: v for k, v in ORDER.items() if k not in ("lineItems", "retailLocation")}
    (line,) = mappers.map_order(order, children)
    assert line.line_external_id == "7" and line.location_external_id == "" and line.unit_price is None
    assert line.currency == "CAD"


def test_location_address_parts():
    loc = mappers.map_location({"id": "gid://shopify/Location/8", "name": "Depot", "isActive": False,
                                "address": {"address1": "1 Dock Rd", "city": "Austin", "province": "TX",
                                            "zip": "78701", "countryCode": "US"}})
    assert (loc.external_id, loc.name, loc.active) == ("8", "Depot", False)
    assert loc.address == "1 Dock Rd, Austin, TX, 78701, US"


def test_paged_queries_validate_against_the_admin_schema_and_stay_under_the_cost_cap():
    """The sandbox executes the Admin API's schema with graphql-core and Shopify's cost rules: every paged query
    the streams send must validate and request at most 1,000 points."""
    from graphql import parse, validate

    from integrations.providers.shopify import queries
    from sandbox.shopify.schema import MAX_QUERY_COST, SCHEMA, query_cost

    for name in ("LOCATIONS", "LOCATION_IDS", "VARIANTS", "INVENTORY_LEVELS", "ORDERS", "ORDER_LINES", "ORDER",
                 "ORDER_REFUNDS", "REFUND_LINES"):
        document = parse(getattr(queries, name))
        assert validate(SCHEMA, document) == [], name
        assert query_cost(document, {}) <= MAX_QUERY_COST, name
