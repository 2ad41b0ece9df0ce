"""End to end: the stock check finds and heals drift the sandbox injected, on PostgreSQL with a real Celery worker.

The sandbox delivers its webhooks to the live portal (pytest-django's ``live_server``), which stores them and the
worker processes them, as in production. Drift is made through the sandbox's control API only: a stock change with
no webhook (``"silent": true``) and a change whose webhook the sandbox drops (``/_sandbox/webhooks/drop``). A change
whose webhook is delivered is made too: the check must not count what the webhook already brought (Square), or count
exactly what the webhook cannot carry (Shopify's ``inventory_levels/update`` has ``available`` only, so our
``on_hand`` for that level stays behind until the next stock read: real drift, found and healed here). Then the
sandbox's truth is the judge: after the check, every level of ours equals the provider's."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from integrations.models import SyncRun, WebhookEvent
from integrations.providers.square.webhooks import notification_url
from integrations.sync import services
from integrations.sync.reconcile import NAME
from integrations.webhooks.processing import FINAL
from inventory.models import InventoryLevel
from tests.processes import wait_until

from .e2e_helpers import finished, sandbox_connection, start_worker, sync_all, unthrottled_shop

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(sandbox_server, live_server, settings):
    settings.BASE_URL = live_server.url
    settings.SQUARE_WEBHOOK_NOTIFICATION_URL = ""
    sandbox_server.set_webhook_target(live_server.url)
    assert sandbox_server.square_webhook_url == notification_url()
    # Drift, not the cost budget, is under test: on Standard each of the three checks waited ~36 s for the bucket.
    unthrottled_shop(sandbox_server)
    return sandbox_server


@pytest.fixture
def worker(sandbox):
    from integrations.webhooks.dispatch import clear_wake_flag
    from shelfops.celery import app

    app.control.purge()  # messages left by an earlier test name rows that no longer exist
    clear_wake_flag()
    worker = start_worker(sandbox, concurrency=2)
    yield worker
    worker.stop()


def control(sandbox, method: str, path: str, **body):
    answer = requests.request(method, f"{sandbox.url}/_sandbox{path}", json=body or None, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def truth(sandbox, provider: str, item: int, location: int) -> dict:
    return control(sandbox, "GET", f"/{provider}/default/stock?item={item}&location={location}")


def ours(retailer, sandbox, provider: str, item: int, location: int) -> InventoryLevel:
    m = sandbox.merchant(provider)
    return InventoryLevel.objects.get(retailer=retailer, store_mapping__external_name=m.location(location).name,
                                      product_mapping__sku=m.variant(item).sku)


def matches_truth(level: InventoryLevel, held: dict) -> bool:
    return (level.on_hand, level.available) == (Decimal(held["on_hand"]), Decimal(held["available"]))


def set_stock(sandbox, provider: str, item: int, location: int, change: int, **extra) -> int:
    """Move a level's on-hand count by ``change`` (never below what is committed, so only on hand and available
    move, both by ``change``). Returns the size of the move."""
    before = truth(sandbox, provider, item, location)
    assert before["on_hand"] + change >= before["committed"]
    control(sandbox, "POST", f"/{provider}/default/stock", item=item, location=location,
            on_hand=before["on_hand"] + change, **extra)
    return abs(change)


def run_check(connection) -> SyncRun:
    run = services.request_sync(connection, NAME, trigger="manual")
    assert run is not None
    (done,) = wait_until(lambda: finished([run]), timeout=120, interval=0.25, what="the stock check to finish")
    assert done.status == "succeeded", done.error
    return done


def webhooks_settled(provider: str, count: int):
    rows = list(WebhookEvent.objects.filter(provider=provider))
    return rows if len(rows) >= count and all(r.status in FINAL for r in rows) else None


@pytest.mark.parametrize("provider", ["square", "shopify"])
def test_injected_drift_is_found_with_its_numbers_and_healed(provider, sandbox, worker, retailer):
    connection = sandbox_connection(sandbox, retailer, provider)
    sync_all(connection)
    calm = run_check(connection)  # nothing injected yet: a check records zero
    assert (calm.drift["drifted"], calm.drift["missing_here"], calm.drift["missing_at_provider"]) == (0, 0, 0)
    assert calm.drift["checked"] == InventoryLevel.objects.filter(retailer=retailer).count() > 0
    assert calm.drift["total_difference"] == "0" and calm.records_seen == 0

    # Drift the portal cannot hear about: a silent change, and a change whose webhook is lost.
    silent = set_stock(sandbox, provider, item=2, location=0, change=5, silent=True)
    control(sandbox, "POST", "/webhooks/drop", provider=provider, count=1)
    dropped = set_stock(sandbox, provider, item=4, location=1, change=4)
    assert control(sandbox, "GET", "/webhooks/drop")[provider] == 0
    assert [d for d in sandbox.deliveries(provider) if d.get("dropped")], "the sandbox lost no webhook"
    # And one the portal does hear about, processed by the worker before the check starts.
    delivered = set_stock(sandbox, provider, item=6, location=0, change=2)
    wait_until(lambda: webhooks_settled(provider, 1), timeout=60, interval=0.2, what="the delivered webhook")
    heard = ours(retailer, sandbox, provider, 6, 0)
    assert heard.available == truth(sandbox, provider, 6, 0)["available"]
    assert not matches_truth(ours(retailer, sandbox, provider, 2, 0), truth(sandbox, provider, 2, 0))
    assert not matches_truth(ours(retailer, sandbox, provider, 4, 1), truth(sandbox, provider, 4, 1))

    check = run_check(connection)
    injected = [silent, dropped]
    if provider == "shopify":  # the webhook carried available only: on hand for that level is the third drift
        assert heard.on_hand != truth(sandbox, provider, 6, 0)["on_hand"]
        injected.append(delivered)
    else:
        assert matches_truth(heard, truth(sandbox, provider, 6, 0))
    assert check.drift["drifted"] == len(injected)
    assert (check.drift["missing_here"], check.drift["missing_at_provider"]) == (0, 0)
    assert check.drift["total_difference"] == str(sum(injected))
    assert check.drift["largest_difference"] == str(max(injected))
    assert check.drift["healed"] == check.records_updated == len(injected)
    # The sample names each drifted level with ours vs theirs, largest difference first.
    assert [e["difference"] for e in check.drift["sample"]] == [str(n) for n in sorted(injected, reverse=True)]
    assert all(e["ours"] is not None and e["theirs"] is not None for e in check.drift["sample"])
    # Healed: every level now equals the provider's truth.
    for item, location in [(2, 0), (4, 1), (6, 0)]:
        held = truth(sandbox, provider, item, location)
        assert matches_truth(ours(retailer, sandbox, provider, item, location), held)

    again = run_check(connection)
    assert (again.drift["drifted"], again.drift["missing_here"], again.drift["healed"]) == (0, 0, 0)
    assert again.drift["total_difference"] == "0"
