"""Stopping the sandbox closes its kept-alive webhook connections, so the receiver (in e2e tests the live portal,
whose request thread holds a database connection while the HTTP connection lives) is released."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandbox.server import SandboxServer
from sandbox.state import SandboxConfig
from tests.processes import wait_until


class KeepAliveReceiver:
    """HTTP/1.1 with keep-alive: a connection stays open until the client closes it."""

    def __init__(self):
        self.requests = 0
        self.open_connections = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.open_connections += 1

            def finish(self):
                super().finish()
                with receiver.lock:
                    receiver.open_connections -= 1

            def do_POST(self):  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_stop_closes_the_senders_kept_alive_connections():
    receiver = KeepAliveReceiver()
    server = SandboxServer(SandboxConfig(portal_base_url=receiver.url, duplicate_webhook_probability=0.0)).start()
    try:
        server.app.webhooks.send_shopify("demo-shop.myshopify.com", "app/uninstalled", {"id": 1})
        wait_until(lambda: receiver.requests == 1, timeout=10, what="the delivery")
        assert receiver.open_connections == 1  # kept alive after the answer
    finally:
        server.stop()
    try:
        wait_until(lambda: receiver.open_connections == 0, timeout=10, what="the connection to be closed")
    finally:
        receiver.close()
