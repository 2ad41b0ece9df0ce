"""The sandbox's drift controls (for the stock check's tests): a stock change with no webhook, and losing the next N
webhook events of a provider, both through the control API; the sandbox keeps the truth and serves it."""

from __future__ import annotations

import pytest
import requests

from tests.processes import wait_until


def post(url: str, path: str, body: dict) -> requests.Response:
    return requests.post(f"{url}/_sandbox{path}", json=body, timeout=5)


def settled(sandbox_server, provider: str) -> list[dict] | None:
    """The provider's delivered (not dropped) webhooks once nothing is left to send, else None."""
    sent = [d for d in sandbox_server.deliveries(provider) if not d.get("dropped")]
    return sent if sent and not sandbox_server.app.webhooks.pending() else None


@pytest.mark.parametrize("provider", ["square", "shopify"])
def test_silent_stock_change_sends_nothing_but_changes_the_truth(sandbox_server, receiver, provider):
    url = sandbox_server.url
    before = requests.get(f"{url}/_sandbox/{provider}/default/stock?item=3&location=1", timeout=5).json()
    answer = post(url, f"/{provider}/default/stock", {"item": 3, "location": 1, "on_hand": before["on_hand"] + 7,
                                                      "silent": True})
    assert answer.status_code == 201
    after = requests.get(f"{url}/_sandbox/{provider}/default/stock?item=3&location=1", timeout=5).json()
    assert after["on_hand"] == before["on_hand"] + 7 and after["updated_at"] >= before["updated_at"]
    # A loud change afterwards is delivered; the silent one never was.
    post(url, f"/{provider}/default/stock", {"item": 3, "location": 1, "on_hand": 1})
    sent = wait_until(lambda: settled(sandbox_server, provider), timeout=10, what="the loud change's webhook")
    assert len(sent) == len(receiver.requests) == 1


@pytest.mark.parametrize("provider", ["square", "shopify"])
def test_the_next_n_webhooks_are_lost_then_delivery_resumes(sandbox_server, receiver, provider):
    url = sandbox_server.url
    assert post(url, "/webhooks/drop", {"provider": provider, "count": 2}).json()[provider] == 2
    for on_hand in (11, 12, 13):
        post(url, f"/{provider}/default/stock", {"item": 0, "location": 0, "on_hand": on_hand})
    sent = wait_until(lambda: settled(sandbox_server, provider), timeout=10, what="the third change's webhook")
    assert len(sent) == len(receiver.requests) == 1  # the first two were lost, not delayed: nothing else queued
    assert requests.get(f"{url}/_sandbox/webhooks/drop", timeout=5).json()[provider] == 0
    dropped = [d for d in sandbox_server.deliveries(provider) if d.get("dropped")]
    assert len(dropped) == 2 and sandbox_server.counters()["events"][f"{provider}:webhook_dropped"] == 2
    held = requests.get(f"{url}/_sandbox/{provider}/default/stock?item=0&location=0", timeout=5).json()
    assert held["on_hand"] == 13


def test_drift_controls_refuse_bad_input(sandbox_server):
    url = sandbox_server.url
    assert post(url, "/webhooks/drop", {"provider": "nobody", "count": 1}).status_code == 400
    assert post(url, "/webhooks/drop", {"provider": "square", "count": -1}).status_code == 400
    assert post(url, "/webhooks/drop", {"provider": "square", "count": "many"}).status_code == 400
    bad = requests.get(f"{url}/_sandbox/square/default/stock?item=0&location=99", timeout=5)
    assert bad.status_code == 400 and "out of range" in bad.json()["error"]
    assert requests.get(f"{url}/_sandbox/nobody/default/stock", timeout=5).status_code == 404
