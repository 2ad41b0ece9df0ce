"""Webhook sender: delivers the providers' real payloads, headers and signatures to the portal, retries on
non-2xx or timeout on the provider's schedule, and sometimes delivers the same event twice (provider-facts 1.3,
2.2).

- Square: ``x-square-hmacsha256-signature`` = base64(HMAC-SHA256(signature key, notification URL + body)), where
  the URL is the exact string the subscription was registered with (``SandboxConfig.square_notification_url``);
  ``square-environment``, ``square-initial-delivery-timestamp``, and on retries ``square-retry-number`` /
  ``square-retry-reason``. Retries back off 1, 2, 4 ... min, capped at 8 h, for 24 h.
- Shopify: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(app secret, body)), topic, shop domain, API version,
  webhook id (per subscription delivery, stable across retries), event id (per event, shared by every
  subscription), triggered-at. 8 retries over 4 hours. Delivered to the shop's subscriptions for the topic
  (``webhookSubscriptionCreate``), or to the portal's ``/webhooks/shopify/`` when the shop has none.

``SandboxConfig.webhook_retry_scale`` shrinks the schedules (tests use ~1/1000: seconds become milliseconds).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from .data import rfc3339

log = logging.getLogger("sandbox.webhooks")

SQUARE_RETRIES = [60 * 2**n for n in range(9)] + [8 * 3600, 7 * 3600 + 29 * 60]  # 11 retries within 24 h
SHOPIFY_RETRIES = [60, 120, 240, 480, 960, 1920, 3840, 6780]  # 8 retries, 4 h in total
TIMEOUTS = {"square": 10.0, "shopify": 5.0, "shipbob": 15.0}


def square_signature(key: str, notification_url: str, body: bytes) -> str:
    digest = hmac.new(key.encode(), notification_url.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def shopify_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(order=True)
class Delivery:
    due: float
    seq: int
    provider: str = field(compare=False)
    url: str = field(compare=False)
    headers: dict = field(compare=False)
    body: bytes = field(compare=False)
    event_id: str = field(compare=False)
    topic: str = field(compare=False)
    attempt: int = field(default=0, compare=False)
    duplicate: bool = field(default=False, compare=False)


class WebhookSender:
    def __init__(self, state):
        self.state = state
        self._heap: list[Delivery] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = threading.Event()
        self._rng = random.Random(f"{state.config.seed}:webhook-duplicates")
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="sandbox-webhook")
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self.session = requests.Session()

    # --- enqueue ---------------------------------------------------------------------------------------------
    def _dropped(self, provider: str, event_id: str, topic: str) -> bool:
        """An event the control API asked to lose: never delivered nor retried, only listed as dropped."""
        if not self.state.take_webhook_drop(provider):
            return False
        self.state.deliveries.append({"provider": provider, "topic": topic, "event_id": event_id, "url": "",
                                      "attempt": 0, "status": None, "error": "dropped", "duplicate": False,
                                      "webhook_id": None, "dropped": True})
        return True

    def send_square(self, event: dict) -> None:
        cfg = self.state.config
        if self._dropped("square", event["event_id"], event["type"]):
            return
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "x-square-hmacsha256-signature": square_signature(cfg.square_signature_key,
                                                              cfg.square_notification_url, body),
            "square-environment": "Sandbox",
            "square-initial-delivery-timestamp": rfc3339(self.state.now_dt()),
            "User-Agent": "Square Connect v2",
        }
        self._push("square", cfg.square_notification_url, headers, body, event["event_id"], event["type"])

    def send_shopify(self, shop: str, topic: str, payload: dict, api_version: str = "2026-10") -> None:
        cfg = self.state.config
        body = json.dumps(payload, separators=(",", ":")).encode()
        event_id = str(uuid.uuid4())
        if self._dropped("shopify", event_id, topic):
            return
        subscriptions = [s for s in self.state.shopify_subscriptions.get(shop, []) if s["topic_name"] == topic]
        urls = [s["uri"] for s in subscriptions] or [cfg.shopify_webhook_url]
        for url in urls:
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": shopify_signature(cfg.shopify_client_secret, body),
                "X-Shopify-Shop-Domain": shop,
                "X-Shopify-API-Version": api_version,
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Triggered-At": rfc3339(self.state.now_dt()),
                "User-Agent": "Shopify-Captain-Hook",
            }
            self._push("shopify", url, headers, body, event_id, topic)

    def push_signed(self, provider, url, headers, body, event_id, topic) -> None:
        """A Standard Webhooks delivery (ShipBob): ``headers["_whsec"]`` signs each attempt when it is sent."""
        self._push(provider, url, headers, body, event_id, topic)

    def _push(self, provider, url, headers, body, event_id, topic, delay: float = 0.0, attempt: int = 0,
              duplicate: bool = False) -> None:
        import time

        with self._cond:
            heapq.heappush(self._heap, Delivery(time.monotonic() + delay, next(self._seq), provider, url, dict(headers),
                                                body, event_id, topic, attempt, duplicate))
            self._cond.notify()

    # --- delivery loop ---------------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)
        # Close the kept-alive connections: a receiver's handler thread (and the database connection it holds,
        # e.g. a live test server's with CONN_MAX_AGE) would otherwise stay open after the sandbox stopped.
        self.session.close()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        import time

        while not self._stopped.is_set():
            with self._cond:
                while not self._stopped.is_set() and (not self._heap or self._heap[0].due > time.monotonic()):
                    timeout = None if not self._heap else max(0.0, self._heap[0].due - time.monotonic())
                    self._cond.wait(timeout)
                if self._stopped.is_set():
                    return
                delivery = heapq.heappop(self._heap)
            try:
                self._pool.submit(self._deliver, delivery)
            except RuntimeError:  # pool shut down
                return

    def _deliver(self, d: Delivery) -> None:
        headers = dict(d.headers)
        if d.provider == "square" and d.attempt:
            headers["square-retry-number"] = str(d.attempt)
            headers["square-retry-reason"] = d.headers.get("_reason", "http_error")
        headers.pop("_reason", None)
        if "_whsec" in headers:
            from .shipbob.events import signed_headers

            headers = signed_headers(headers, d.body, self.state.now())
        status, error = None, ""
        try:
            response = self.session.post(d.url, data=d.body, headers=headers, timeout=TIMEOUTS[d.provider],
                                         allow_redirects=False)  # a 3xx counts as a failure
            status = response.status_code
        except requests.RequestException as exc:
            error = type(exc).__name__
        ok = status is not None and 200 <= status < 300
        self.state.deliveries.append({"provider": d.provider, "topic": d.topic, "event_id": d.event_id,
                                      "url": d.url, "attempt": d.attempt, "status": status, "error": error,
                                      "duplicate": d.duplicate,
                                      "webhook_id": d.headers.get("X-Shopify-Webhook-Id")
                                      or d.headers.get("webhook-id")})
        if ok:
            if not d.duplicate and self._rng.random() < self.state.config.duplicate_webhook_probability:
                self._push(d.provider, d.url, d.headers, d.body, d.event_id, d.topic, delay=0.05, attempt=d.attempt,
                           duplicate=True)
            return
        from .shipbob.events import RETRIES as SHIPBOB_RETRIES

        schedule = {"square": SQUARE_RETRIES, "shipbob": SHIPBOB_RETRIES}.get(d.provider, SHOPIFY_RETRIES)
        if d.attempt >= len(schedule):
            log.warning("webhook %s %s given up after %d attempts", d.provider, d.event_id, d.attempt + 1)
            return
        retry_headers = dict(d.headers, _reason="timeout" if error == "ReadTimeout" else "http_error")
        delay = schedule[d.attempt] * self.state.config.webhook_retry_scale
        self._push(d.provider, d.url, retry_headers, d.body, d.event_id, d.topic, delay=delay, attempt=d.attempt + 1,
                   duplicate=d.duplicate)
