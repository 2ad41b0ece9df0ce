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


def _ports(variable: str, default: range) -> range:
    """``FAULTS_REDIS_PORTS=16390-16399`` narrows the range, so runs sharing a machine keep to their own ports."""
    value = os.environ.get(variable)
    if not value:
        return default
    first, _, last = value.partition("-")
    return range(int(first), int(last or first) + 1)


PRIVATE_REDIS_PORTS = _ports("FAULTS_REDIS_PORTS", range(16379, 16400))  # issue 16's private range
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
    path = Path(os.environ.get("FAULTS_REPORT", ROOT / "var" / "faults.jsonl"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write(json.dumps({"scenario": name, **figures}) + "\n")


class CuttableTcpProxy:
    """A TCP relay in front of PostgreSQL for the portal and the worker. ``cut()`` resets every relayed
    connection and refuses new ones, which is what the clients see when the database server stops or restarts;
    ``restore()`` listens again. (Stopping the shared server itself is not an option: other suites use it.)"""

    def __init__(self, target_port: int, ports: range = range(15432, 15440)):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port(ports)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def start(self) -> CuttableTcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)

    def _close(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        if self._listener:
            self._listener.close()
            self._listener = None
        with self._lock:
            live = list(self._sockets)
        for s in live:
            self._close(s)

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.cut()
