"""A local HTTP server that throttles like Shopify, for bench/ratelimit.py.

- REST (``GET .../admin/api/<v>/*.json``): leaky bucket of ``size`` requests leaking ``leak``/s; over it: 429
  with ``Retry-After``; every answer carries ``X-Shopify-Shop-Api-Call-Limit: used/size``.
- GraphQL (``POST .../graphql.json``): cost bucket of ``maximum`` points restoring ``restore``/s; a query is
  charged ``requested`` up front and refunded down to ``actual``; over it: 200 with ``THROTTLED``; answers carry
  ``extensions.cost.throttleStatus``.
Counters say what was accepted and throttled inside the measured window.
"""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Buckets:
    def __init__(self, *, size=40.0, leak=2.0, maximum=1000.0, restore=50.0, requested=52.0, actual=30.0):
        self.size, self.leak = size, leak
        self.maximum, self.restore, self.requested, self.actual = maximum, restore, requested, actual
        self.lock = threading.Lock()
        self.reset()

    def reset(self, window: tuple[float, float] | None = None) -> None:
        with self.lock:
            now = time.time()
            self.level, self.level_at = 0.0, now  # REST: requests in the bucket
            self.points, self.points_at = self.maximum, now  # GraphQL: points available
            self.window = window or (0.0, math.inf)
            self.accepted = self.throttled = 0
            self.points_spent = 0.0

    def _counted(self, now: float) -> bool:
        return self.window[0] <= now <= self.window[1]

    def rest(self) -> tuple[int, dict]:
        with self.lock:
            now = time.time()
            self.level = max(0.0, self.level - (now - self.level_at) * self.leak)
            self.level_at = now
            if self.level + 1 > self.size + 1e-9:
                self.throttled += self._counted(now)
                used = math.ceil(self.level - 1e-9)
                return 429, {"Retry-After": "1.0", "X-Shopify-Shop-Api-Call-Limit": f"{used}/{self.size:g}"}
            self.level += 1
            self.accepted += self._counted(now)
            return 200, {"X-Shopify-Shop-Api-Call-Limit": f"{math.ceil(self.level - 1e-9)}/{self.size:g}"}

    def graphql(self) -> dict:
        with self.lock:
            now = time.time()
            self.points = min(self.maximum, self.points + (now - self.points_at) * self.restore)
            self.points_at = now
            status = {"maximumAvailable": self.maximum, "restoreRate": self.restore}
            if self.points < self.requested:
                self.throttled += self._counted(now)
                return {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                        "extensions": {"cost": {"requestedQueryCost": self.requested, "actualQueryCost": None,
                                                "throttleStatus": {**status, "currentlyAvailable": self.points}}}}
            self.points -= self.actual  # charged requested, refunded to actual
            if self._counted(now):
                self.accepted += 1
                self.points_spent += self.actual
            return {"data": {"shop": {"name": "bench"}},
                    "extensions": {"cost": {"requestedQueryCost": self.requested, "actualQueryCost": self.actual,
                                            "throttleStatus": {**status, "currentlyAvailable": self.points}}}}


def serve(buckets: Buckets) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs and the client's pooled session
        disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

        def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self):  # noqa: N802
            status, headers = buckets.rest()
            body = {"shop": {"name": "bench"}} if status == 200 else {"errors": "Exceeded 2 calls per second"}
            self._send(status, body, headers)

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send(200, buckets.graphql())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
