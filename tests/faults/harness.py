"""Real processes for the fault suite: a private redis-server that a test may kill and restart, the portal under
gunicorn, and a steady sender of signed webhooks that behaves like a provider (retries what was not acknowledged).

Every process runs on the test database; Redis (broker, cache, rate budgets, wake flags) is the private one, so
killing it never touches another engineer's or CI's Redis."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import ROOT, database_url_for_current_test_db, wait_until
from tests.webhooks.helpers import SHOPIFY_SECRET, SHOPIFY_SHOP, shopify_order, shopify_request

PRIVATE_REDIS_PORTS = range(16379, 16400)  # issue 16's private range
WEB_PORTS = range(22600, 22700)


def free_port(candidates: range) -> int:
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {candidates}")


class PrivateRedis:
    """redis-server with an append-only file, as production runs it, so a restart keeps the queued messages."""

    def __init__(self):
        self.port = free_port(PRIVATE_REDIS_PORTS)
        self.dir = tempfile.mkdtemp(prefix="faults-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
             "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self.ping, timeout=15, what="the private redis-server to answer")
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save; what a crashed host or OOM kill does."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        self.kill()


def portal_env(redis_url: str, **extra) -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url_for_current_test_db(),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "VAR_DIR": str(settings.VAR_DIR),
        "SHOPIFY_CLIENT_SECRET": SHOPIFY_SECRET,
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
        # The receive path's wake-up of the dispatcher after an outage: at most this late.
        "WEBHOOK_DISPATCH_WAKE_TTL_SECONDS": "1",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Portal:
    """The web side under gunicorn (as docker-compose runs it), on a private port."""

    def __init__(self, env: dict[str, str]):
        self.port = free_port(WEB_PORTS)
        self.env = env
        self.log = Path(tempfile.mkstemp(prefix="faults-web-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Portal:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "shelfops.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--threads", "4", "--timeout", "60"],
            cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )
        wait_until(self._up, timeout=60, what="gunicorn to answer /healthz")
        return self

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@dataclass
class Sender:
    """Sends one Shopify ``orders/create`` (one line each, its own order id) every ``interval`` seconds, and
    re-sends every delivery not yet acknowledged (2xx) as Shopify would, with the same event id."""

    url: str
    interval: float = 0.05
    first_order: int = 700_000
    sent: int = 0
    acknowledged: dict[str, int] = field(default_factory=dict)  # event id -> order id
    refused: dict[int, int] = field(default_factory=dict)  # status -> answers
    _pending: list[tuple[str, int, bytes, dict]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sender:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _delivery(self, n: int):
        order_id = self.first_order + n
        order = shopify_order(order_id, [(1, 501, 1, "2.00")], updated_at="2026-09-01T10:00:00Z")
        body, meta = shopify_request("orders/create", order, shop=SHOPIFY_SHOP, event_id=f"fault-{order_id}")
        headers = {k[5:].replace("_", "-").title(): v for k, v in meta.items()}
        return f"fault-{order_id}", order_id, body, headers

    def _post(self, body: bytes, headers: dict) -> int:
        request = urllib.request.Request(f"{self.url}/webhooks/shopify/", data=body, method="POST",
                                         headers={**headers, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0  # connection refused or reset: not acknowledged

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            self._pending.append(self._delivery(n))
            n += 1
            self.sent = n
            retry = []
            for event_id, order_id, body, headers in self._pending:
                status = self._post(body, headers)
                if 200 <= status < 300:
                    self.acknowledged[event_id] = order_id
                else:
                    self.refused[status] = self.refused.get(status, 0) + 1
                    retry.append((event_id, order_id, body, headers))
            self._pending = retry
            self._stop.wait(self.interval)

    def stop(self, drain_timeout: float = 60) -> None:
        """Stop sending new events; keep re-sending the unacknowledged ones until they are acknowledged."""
        self._stop.set()
        if self._thread:
            self._thread.join(30)
        deadline = time.monotonic() + drain_timeout
        while self._pending and time.monotonic() < deadline:
            retry = []
            for event_id, order_id, body, headers in self._pending:
                if 200 <= self._post(body, headers) < 300:
                    self.acknowledged[event_id] = order_id
                else:
                    retry.append((event_id, order_id, body, headers))
            self._pending = retry
            time.sleep(0.2)


def print_figures(name: str, figures: dict) -> None:
    line = ", ".join(f"{k} {v}" for k, v in figures.items())
    print(f"\nFAULT {name}: {line}")
    Path(os.environ.get("FAULTS_REPORT", ROOT / "var" / "faults.jsonl")).parent.mkdir(parents=True, exist_ok=True)
    with open(os.environ.get("FAULTS_REPORT", ROOT / "var" / "faults.jsonl"), "a") as fh:
        fh.write(json.dumps({"scenario": name, **figures}) + "\n")
