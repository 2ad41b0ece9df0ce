"""Standard Webhooks signatures: the sandbox's ShipBob deliveries verify with ``standardwebhooks`` (the Standard
Webhooks project's own library, the judge), and the portal's verifier agrees with it on accept and on every
reject: tampered body, expired timestamp, wrong secret, and a rotation with two signatures."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from standardwebhooks import Webhook, WebhookVerificationError

from integrations.providers.shipbob.subscriptions import new_secret
from integrations.webhooks.standard import verify as portal_verify
from sandbox.shipbob.events import signed_headers


def judge_accepts(secret: str, body: bytes, headers: dict) -> bool:
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


def delivery(secret: str, body: bytes = b'{"id":1}', at: float | None = None) -> dict:
    """Headers exactly as the sandbox's sender signs an attempt (sandbox.shipbob.events.signed_headers)."""
    return signed_headers({"webhook-id": "msg_abc", "x-webhook-topic": "order.shipped", "_whsec": secret}, body,
                          time.time() if at is None else at)


def test_secret_format_is_whsec_base64_of_32_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32


@pytest.mark.parametrize("case", ["valid", "tampered", "expired", "future", "wrong_secret", "no_v1"])
def test_portal_and_judge_agree(case):
    secret, other = new_secret(), new_secret()
    body = b'{"id":500000001,"status":"Completed"}'
    headers = delivery(secret, body, at=time.time() - (600 if case == "expired" else 0) + (600 if case == "future"
                                                                                          else 0))
    if case == "tampered":
        body = body.replace(b"Completed", b"Cancelled")
    key = other if case == "wrong_secret" else secret
    if case == "no_v1":
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
    expected = case == "valid"
    assert judge_accepts(key, body, headers) is expected
    assert portal_verify(body, headers, [key]) is expected


def test_rotation_two_signatures_accepted_by_either_secret():
    old, new = new_secret(), new_secret()
    body = b'{"id":2}'
    headers = signed_headers({"webhook-id": "msg_rot", "_whsec": f"{new} {old}"}, body, time.time())
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        assert judge_accepts(secret, body, headers)
        assert portal_verify(body, headers, [secret])
    stranger = new_secret()
    assert not judge_accepts(stranger, body, headers)
    assert not portal_verify(body, headers, [stranger])
    # The portal keeps the previous secret next to the current one during a rotation.
    assert portal_verify(body, headers, [stranger, old])


class _Capture(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(500 if len(self.received) == 1 else 200)  # the first attempt fails: a retry follows
        self.end_headers()

    def log_message(self, *args):
        pass


def test_live_sandbox_delivery_and_its_retry_verify_with_the_judge(sandbox_server):
    receiver = HTTPServer(("127.0.0.1", 0), _Capture)
    _Capture.received = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        secret = new_secret()
        pat = requests.post(f"{sandbox_server.url}/_sandbox/shipbob/226071/pat").json()["token"]
        answer = requests.post(f"{sandbox_server.url}/shipbob/2026-07/webhook",
                               headers={"Authorization": f"Bearer {pat}"},
                               json={"topics": ["order.shipped"], "secret": secret,
                                     "url": f"http://127.0.0.1:{receiver.server_port}/hook"})
        assert answer.status_code == 201, answer.text
        sandbox_server.create_sale("shipbob", location=1, items=[(2, 3)])
        deadline = time.monotonic() + 20
        while len(_Capture.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_Capture.received) == 2
        (first_headers, first_body), (retry_headers, retry_body) = _Capture.received
        assert first_body == retry_body and first_headers["webhook-id"] == retry_headers["webhook-id"]
        for headers, body in _Capture.received:
            headers = {k.lower(): v for k, v in headers.items()}
            assert judge_accepts(secret, body, headers)
            assert portal_verify(body, headers, [secret])
            assert json.loads(body)["status"] == "Completed"
    finally:
        receiver.shutdown()
