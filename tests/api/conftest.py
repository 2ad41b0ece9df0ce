"""Fixtures for the REST API tests: a retailer's worth of synced rows, built through the models (the tests are
about the API, not ingest), and API clients holding a token."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.models import ApiCallLog, Connection, SyncRun, SyncSchedule
from inventory.models import (
    ApiToken,
    InventoryLevel,
    Product,
    ProductMapping,
    Store,
    StoreMapping,
    Transaction,
)

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
SECRET_ACCESS_TOKEN = "EAAA-secret-access-token-must-never-leak"
SECRET_REFRESH_TOKEN = "EQAA-secret-refresh-token-must-never-leak"


@dataclass
class TenantData:
    retailer: object
    stores: list = field(default_factory=list)
    products: list = field(default_factory=list)
    store_mappings: list = field(default_factory=list)
    product_mappings: list = field(default_factory=list)
    levels: list = field(default_factory=list)
    transactions: list = field(default_factory=list)
    connection: object = None
    runs: list = field(default_factory=list)
    calls: list = field(default_factory=list)


def build_tenant(retailer, *, prefix: str, stores: int = 2, products: int = 3, lines_per_pair: int = 2) -> TenantData:
    """Stores x products with one level each and ``lines_per_pair`` sold lines each, plus one unmapped provider
    item with a held line, a connection with schedules, runs and call logs. SKUs are the same for every
    retailer on purpose: filters must still only see the caller's rows."""
    data = TenantData(retailer)
    account = f"{prefix}-merchant"
    data.connection = Connection.objects.create(
        retailer=retailer, provider="square", external_account_id=account, display_name=f"{prefix} Square",
        status=Connection.Status.ACTIVE, access_token=SECRET_ACCESS_TOKEN, refresh_token=SECRET_REFRESH_TOKEN,
        connected_at=T0,
    )
    for i in range(stores):
        store = Store.objects.create(retailer=retailer, name=f"{prefix} store {i}", code=f"S{i}")
        data.stores.append(store)
        data.store_mappings.append(
            StoreMapping.objects.create(
                retailer=retailer, provider="square", external_account_id=account, external_id=f"{prefix}-L{i}",
                store=store,
            )
        )
    for j in range(products):
        product = Product.objects.create(retailer=retailer, sku=f"SKU-{j}", barcode=f"00{j}", name=f"{prefix} p{j}")
        data.products.append(product)
        data.product_mappings.append(
            ProductMapping.objects.create(
                retailer=retailer, provider="square", external_account_id=account, external_id=f"{prefix}-V{j}",
                product=product, sku=f"SKU-{j}",
            )
        )
    n = 0
    for smap in data.store_mappings:
        for pmap in data.product_mappings:
            data.levels.append(
                InventoryLevel.objects.create(
                    retailer=retailer, store_mapping=smap, product_mapping=pmap, store=smap.store,
                    product=pmap.product, source="square", available=Decimal(n), on_hand=Decimal(n + 1),
                    as_of=T0 + timedelta(hours=n),
                )
            )
            for k in range(lines_per_pair):
                data.transactions.append(
                    Transaction.objects.create(
                        retailer=retailer, store=smap.store, product=pmap.product, store_mapping=smap,
                        product_mapping=pmap, source="square", external_account_id=account,
                        external_order_id=f"{prefix}-O{n}", external_line_id=f"{k}", sku=pmap.sku,
                        quantity=Decimal("1.5"), unit_price=Decimal("2.00"), currency="USD",
                        occurred_at=T0 + timedelta(minutes=10 * n + k),
                    )
                )
            n += 1
    unmapped = ProductMapping.objects.create(
        retailer=retailer, provider="square", external_account_id=account, external_id=f"{prefix}-V-unknown",
        sku="SKU-NEW", external_name="Unknown item",
    )
    data.product_mappings.append(unmapped)
    data.transactions.append(
        Transaction.objects.create(
            retailer=retailer, store=data.stores[0], store_mapping=data.store_mappings[0], product_mapping=unmapped,
            source="square", external_account_id=account, external_order_id=f"{prefix}-O-held",
            external_line_id="0", sku="SKU-NEW", quantity=Decimal("1"), occurred_at=T0 + timedelta(days=2),
        )
    )
    unmapped_location = StoreMapping.objects.create(
        retailer=retailer, provider="square", external_account_id=account, external_id=f"{prefix}-L-unknown",
        external_name="Pop-up stand",
    )
    data.store_mappings.append(unmapped_location)
    data.transactions.append(
        Transaction.objects.create(
            retailer=retailer, product=data.products[0], store_mapping=unmapped_location,
            product_mapping=data.product_mappings[0], source="square", external_account_id=account,
            external_order_id=f"{prefix}-O-popup", external_line_id="0", sku="SKU-0", quantity=Decimal("1"),
            occurred_at=T0 + timedelta(days=3),
        )
    )
    for stream in ("locations", "catalog", "inventory", "orders"):
        SyncSchedule.objects.create(
            connection=data.connection, stream=stream, interval_seconds=900, next_run_at=timezone.now()
        )
        data.runs.append(
            SyncRun.objects.create(
                connection=data.connection, stream=stream, status=SyncRun.Status.SUCCEEDED, trigger="schedule",
                finished_at=T0, records_seen=3,
            )
        )
    data.runs.append(
        SyncRun.objects.create(
            connection=data.connection, stream="orders", status=SyncRun.Status.FAILED, trigger="schedule",
            error="provider unavailable: 503 after 5 attempts",
        )
    )
    data.calls.append(
        ApiCallLog.objects.create(
            connection=data.connection, provider="square", external_account_id=account, method="GET",
            url="https://connect.squareup.com/v2/locations", status_code=200, duration_ms=12,
        )
    )
    return data


def token_client(retailer, *, staff: bool = False, name: str = "forecasting") -> APIClient:
    token, key = ApiToken.issue(retailer, name, is_staff_token=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.token, client.key = token, key
    return client


@pytest.fixture
def acme(retailer):
    return build_tenant(retailer, prefix="acme")


@pytest.fixture
def rival(other_retailer):
    return build_tenant(other_retailer, prefix="rival")


@pytest.fixture
def acme_client(acme):
    return token_client(acme.retailer)


@pytest.fixture
def acme_staff_client(acme):
    return token_client(acme.retailer, staff=True, name="ops")


@pytest.fixture(autouse=True)
def no_settle_window(settings):
    """Rows in these tests are written a moment before they are read; the changes-feed settle window (tested on
    its own in test_api_changes_feed) would hold them back."""
    settings.API_CHANGES_SETTLE_SECONDS = 0
