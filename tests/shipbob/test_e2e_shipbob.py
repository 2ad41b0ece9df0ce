"""End to end on PostgreSQL with a real Celery worker and the sandbox's ShipBob: connect by OAuth in chromium
(consent page, PKCE) and by a pasted personal access token; initial and incremental syncs; stock per fulfilment
centre in the REST API; a shipment webhook (Standard Webhooks, per-subscription secret) processed once even when
delivered twice."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from integrations.models import Connection, SyncRun, WebhookEvent, WebhookSubscription
from inventory.models import ApiToken, InventoryLevel, ProductMapping, Store, StoreMapping, Transaction
from sandbox.shipbob.common import FULFILMENT_CENTRES
from sandbox.shipbob.events import signed_headers
from sandbox.shipbob.objects import inventory_id, shipment_json
from tests.browser import save_screenshot
from tests.processes import wait_until
from tests.sync.e2e_helpers import sync_all

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def runs_done(connection):
    def check():
        rows = list(SyncRun.objects.filter(connection=connection))
        return rows if rows and all(r.status not in ("queued", "running") for r in rows) else None
    rows = wait_until(check, timeout=180, interval=0.25, what="the connect syncs to finish")
    failed = {r.stream: r.error for r in rows if r.status != "succeeded"}
    assert not failed, failed
    return rows


def assert_initial_data(connection, sandbox):
    m = sandbox.merchant("shipbob")
    sizes = m.sizes
    retailer = connection.retailer
    assert StoreMapping.objects.filter(retailer=retailer, provider="shipbob").count() == sizes.locations
    stores = Store.objects.filter(retailer=retailer)
    assert stores.count() == sizes.locations and {s.kind for s in stores} == {"warehouse"}
    assert ProductMapping.objects.filter(retailer=retailer, provider="shipbob").count() == sizes.variants
    assert InventoryLevel.objects.filter(retailer=retailer).count() == sizes.variants * sizes.locations
    lines = Transaction.objects.filter(retailer=retailer)
    # One line per inventory item of each shipment (a shipment packs an order's lines of one item together).
    shipped = sum(len({line.variant_index for line in order.lines}) for order in m.iter_orders())
    assert lines.count() == shipped and set(lines.values_list("kind", flat=True)) == {"shipment"}


def api_levels(retailer, variant: int) -> dict[str, dict]:
    """The REST API's levels of one sandbox variant, by store name (= fulfilment centre name)."""
    _, key = ApiToken.issue(retailer, f"forecasting-{ApiToken.objects.count()}")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    stores = {s["id"]: s for s in api.get("/api/v1/stores/").json()["results"]}
    product = ProductMapping.objects.get(provider="shipbob", external_id=str(inventory_id(variant))).product_id
    answer = api.get("/api/v1/inventory-levels/", {"product": product})
    assert answer.status_code == 200, answer.content
    return {stores[row["store"]]["name"]: row for row in answer.json()["results"]}


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/?next=/portal/")
    page.fill("input[name=username]", "acme-merchant")
    page.fill("input[name=password]", "pw-acme-merchant-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")


@pytest.mark.browser
def test_oauth_in_chromium_sync_api_and_shipment_webhook_once(page, live_server, portal_sandbox, shipbob_worker,
                                                               merchant_user, retailer):
    sandbox = portal_sandbox
    log_in(page, live_server)
    # The ShipBob card offers both ways in: the OAuth button and a personal access token form.
    assert page.locator("#token-connect-shipbob input[name=token]").is_visible()
    save_screenshot(page, "portal-connect")
    page.locator("#connect-shipbob button[type=submit]").click()
    page.locator("#allow").click()  # ShipBob's consent page (sandbox)
    page.wait_for_url(f"{live_server.url}/portal/connections/*/")
    connection = Connection.objects.get(provider="shipbob")
    assert connection.status == Connection.Status.ACTIVE and connection.refresh_token
    assert connection.auth_mode == Connection.AuthMode.AUTHORIZATION_CODE
    subscription = WebhookSubscription.objects.get(connection=connection)
    assert subscription.secret.startswith("whsec_") and connection.settings["webhooks"]["failed"] == []
    runs_done(connection)
    assert_initial_data(connection, sandbox)

    # Stock per fulfilment centre, with its quantity states, through the REST API.
    m = sandbox.merchant("shipbob")
    levels = api_levels(retailer, 4)
    assert set(levels) == {fc[1] for fc in FULFILMENT_CENTRES[: m.sizes.locations]}
    first_fc = levels[FULFILMENT_CENTRES[0][1]]
    stock = m.stock(4, 0)
    assert float(first_fc["on_hand"]) == stock.on_hand and float(first_fc["committed"]) == stock.committed
    assert float(first_fc["available"]) == stock.on_hand - stock.committed

    # A shipment: the webhook reaches the portal (signed for this subscription) and the worker ingests it once.
    before = Transaction.objects.filter(retailer=retailer).count()
    shipped = sandbox.create_sale("shipbob", location=1, items=[(4, 2), (6, 1)])
    order_prefix = f"{shipped['order_id']}/{shipped['shipment_id']}"
    wait_until(lambda: Transaction.objects.filter(external_order_id=order_prefix).count() == 2, timeout=60,
               interval=0.2, what="the shipment webhook to be processed")
    event = WebhookEvent.objects.get(provider="shipbob", topic="order.shipped")
    assert event.status == "processed"
    # ShipBob delivers again (same webhook-id, signed anew): stored once, nothing doubles.
    delivery = next(d for d in sandbox.deliveries("shipbob") if d["status"] == 200)
    body = json.dumps(shipment_json(m, m.order(m.order_count - 1)), separators=(",", ":"))
    headers = signed_headers({"webhook-id": delivery["webhook_id"], "x-webhook-topic": "order.shipped",
                              "_whsec": subscription.secret}, body.encode(), sandbox.state.now())
    again = Client().post(f"/webhooks/shipbob/{subscription.segment}/", body, content_type="application/json",
                          **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    assert again.status_code == 200 and again.json()["status"] == "duplicate", again.content
    assert WebhookEvent.objects.filter(provider="shipbob").count() == 1
    assert Transaction.objects.filter(retailer=retailer).count() == before + 2
    assert set(Transaction.objects.filter(external_order_id=order_prefix).values_list("kind", flat=True)) == {
        "shipment"}
    # A delivery signed with another secret is refused before anything is stored.
    forged = signed_headers({"webhook-id": "msg_forged", "x-webhook-topic": "order.shipped",
                             "_whsec": "whsec_" + "A" * 43 + "="}, body.encode(), sandbox.state.now())
    refused = Client().post(f"/webhooks/shipbob/{subscription.segment}/", body, content_type="application/json",
                            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in forged.items()})
    assert refused.status_code == 401

    # Incremental: a stock count at one centre shows after the next inventory run (read from the history).
    sandbox.change_stock("shipbob", item=4, location=2, on_hand=77)
    runs = sync_all(connection)
    assert runs["inventory"].records_updated >= 1
    assert float(api_levels(retailer, 4)[FULFILMENT_CENTRES[2][1]]["on_hand"]) == 77
    # Picking for the shipment lowered stock at the centre it left from; the incremental run read that too.
    assert float(api_levels(retailer, 4)[FULFILMENT_CENTRES[1][1]]["on_hand"]) == m.stock(4, 1).on_hand


def test_personal_access_token_connect_and_sync(shipbob_sandbox, shipbob_worker, merchant_user, retailer,
                                                settings):
    settings.BASE_URL = "http://127.0.0.1:9"  # webhooks are not under test here
    browser = Client()
    browser.force_login(merchant_user)
    bad = browser.post("/integrations/shipbob/token/", {"token": "not-a-real-token"}, follow=True)
    assert "ShipBob did not accept this token" in bad.content.decode()
    assert not Connection.objects.exists()

    import requests

    pat = requests.post(f"{shipbob_sandbox.url}/_sandbox/shipbob/226071/pat").json()["token"]
    answer = browser.post("/integrations/shipbob/token/", {"token": pat})
    assert answer.status_code == 302 and "/portal/connections/" in answer["Location"]
    connection = Connection.objects.get(provider="shipbob")
    assert connection.auth_mode == Connection.AuthMode.PERSONAL_ACCESS_TOKEN
    assert connection.access_token == pat and connection.refresh_token is None and connection.token_expires_at is None
    runs_done(connection)
    assert_initial_data(connection, shipbob_sandbox)

    # Incremental shipments: a new shipment appears after the next run, the old lines are not read twice.
    before = Transaction.objects.filter(retailer=retailer).count()
    shipbob_sandbox.create_sale("shipbob", location=0, items=[(1, 1)])
    runs = sync_all(connection)
    assert Transaction.objects.filter(retailer=retailer).count() == before + 1
    assert runs["shipments"].records_created == 1
