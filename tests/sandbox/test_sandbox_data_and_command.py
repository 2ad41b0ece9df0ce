"""Generated data (deterministic, lazy), the control API, and ``manage.py runsandbox`` as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import requests

from sandbox.data import Merchant, Sizes
from tests.processes import wait_until

from .receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = Merchant("s1"), Merchant("s1"), Merchant("s2")
    assert [a.order(i) for i in range(50)] == [b.order(i) for i in range(50)]
    assert [a.variant(i).barcode for i in range(50)] != [c.variant(i).barcode for i in range(50)]


def test_benchmark_sizes_are_random_access_without_materialising():
    m = Merchant("bench", Sizes(products=50_000, locations=5, orders=400_000))
    assert m.sizes.variants == 100_000 and m.stock_rows == 500_000
    last = m.order(399_999)  # generated on demand
    assert all(0 <= line.variant_index < 100_000 for line in last.lines)
    assert m.variant_by_sku("SKU-100000").index == 99_999 and m.variant_by_sku("SKU-100001") is None
    lines = m.iter_order_lines(0, 1000)
    assert next(lines).order_index == 0  # a generator: nothing computed beyond what is consumed


def test_time_thresholds_match_a_brute_force_scan():
    m = Merchant("t", Sizes(products=30, locations=2, orders=500))
    for probe in (7, 123, 499):
        t = m.order(probe).updated_at
        first = m.first_order_updated_after(t)
        assert first == next((i for i in range(m.order_count) if m.order(i).updated_at > t), m.order_count)
        row = m.first_stock_row_updated_after(m.stock_row(probe % m.stock_rows).updated_at)
        assert row == probe % m.stock_rows + 1
    t = m.variant(10).updated_at
    assert [v.index for v in m.iter_variants(updated_after=t)] == list(range(11, 60))


def test_overlay_changes_are_newer_than_the_base_and_listed_after_a_threshold():
    m = Merchant("o", Sizes(products=10, orders=20))
    now = m.order(19).updated_at + timedelta(days=60)
    m.edit_variant(3, now, price_cents=100)
    before = m.stock(5, 1).on_hand
    order, rows = m.record_sale(1, [(5, 2)], now)
    assert [v.index for v in m.iter_variants(updated_after=now - timedelta(seconds=1))] == [3]
    assert m.first_order_updated_after(now - timedelta(seconds=1)) == 20 and m.order(20) == order
    assert rows[0].on_hand == before - 2 == m.stock(5, 1).on_hand and m.stock(5, 1).updated_at == now


def test_square_order_json_follows_a_variant_edit_made_after_it_was_rendered():
    """Order lines reuse each variant's rendered fields; an overlay edit must show in the next answer."""
    from sandbox.square.objects import order_json

    m = Merchant("r", Sizes(products=10, orders=20))
    order = m.order(3)
    variant = order.lines[0].variant_index
    before = order_json(m, order)["line_items"][0]
    m.edit_variant(variant, order.updated_at + timedelta(days=90), name="Renamed", product_name="Other")
    after = order_json(m, order)["line_items"][0]
    assert before["variation_name"] != "Renamed"
    assert (after["variation_name"], after["name"]) == ("Renamed", "Other")
    assert after["catalog_version"] > before["catalog_version"] and after["uid"] == before["uid"]


def test_control_api_sets_faults_and_changes_data(sandbox_server, receiver):
    url = sandbox_server.url
    bad = requests.post(f"{url}/_sandbox/faults/square", json={"no_such_fault": 1}, timeout=5)
    assert bad.status_code == 400
    ok = requests.post(f"{url}/_sandbox/faults/square", json={"latency_ms": 5, "error_rate": 0.5}, timeout=5)
    assert ok.json()["square"]["error_rate"] == 0.5
    requests.delete(f"{url}/_sandbox/faults/square", timeout=5)
    assert sandbox_server.state.faults["square"].error_rate == 0
    sale = requests.post(f"{url}/_sandbox/shopify/default/sales", json={"location": 0, "items": [["SKU-000001", 1]]},
                         timeout=5)
    assert sale.status_code == 201 and sale.json()["order_id"].startswith("gid://shopify/Order/")
    unknown = requests.post(f"{url}/_sandbox/square/default/stock", json={"item": "SKU-999999"}, timeout=5)
    assert unknown.status_code == 400 and "unknown sku" in unknown.json()["error"]
    wait_until(lambda: requests.get(f"{url}/_sandbox/deliveries", timeout=5).json()["deliveries"], timeout=10,
               what="deliveries listed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runsandbox_command_serves_and_generates_events(tmp_path):
    receiver = Receiver()
    port = free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path), "BASE_URL": receiver.url, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "manage.py", "runsandbox", "--port", str(port), "--events", "20",
                             "--products", "20", "--orders", "30"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: _ok(f"http://127.0.0.1:{port}/_sandbox/health"), timeout=30, what="runsandbox up")
        assert "Provider sandbox" in requests.get(f"http://127.0.0.1:{port}/", timeout=5).text
        wait_until(lambda: len(receiver.requests) >= 3, timeout=20, what="generated webhook events")
        paths = {r["path"] for r in receiver.requests}
        assert paths <= {"/webhooks/square/", "/webhooks/shopify/"}
    finally:
        proc.terminate()
        proc.wait(10)
        receiver.close()


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False
