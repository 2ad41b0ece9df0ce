"""The sandbox WSGI app and its threaded server.

One app serves every provider under a path prefix (docs/seams.md): ``/square``, ``/shopify/{shop}``,
``/netsuite/{account_host}/{app|suitetalk}``, plus the control API under ``/_sandbox``. Provider routes are
counted (requests, in-flight, max in-flight per provider and per account) and pass through fault injection first.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import control
from .http import Route, json_response
from .netsuite import m2m as netsuite_m2m
from .netsuite import oauth as netsuite_oauth
from .netsuite import suiteql
from .shipbob import api as shipbob_api
from .shipbob import common as shipbob_common
from .shipbob import oauth as shipbob_oauth
from .shopify import graphql as shopify_graphql
from .shopify import oauth as shopify_oauth
from .square import api as square_api
from .square import common as square_common
from .square import oauth as square_oauth
from .state import SandboxConfig, SandboxState
from .webhooks import WebhookSender

log = logging.getLogger("sandbox")

FAULT_ANSWERS = {
    "square": square_common.fault_response,
    "shopify": shopify_oauth.fault_response,
    "netsuite": netsuite_oauth.fault_response,
    "shipbob": shipbob_common.fault_response,
}


class QuietQueryHandler(WSGIRequestHandler):
    """Logs method, path and status only: query strings carry OAuth codes and states."""

    def log_request(self, code="-", size="-"):
        log.info("%s %s %s", self.command, self.path.split("?", 1)[0], getattr(code, "value", code))


class SandboxApp:
    def __init__(self, state: SandboxState):
        self.state = state
        self.webhooks = WebhookSender(state)
        routes: list[Route] = [
            *square_oauth.ROUTES, *square_api.ROUTES, *shopify_oauth.ROUTES, *shopify_graphql.ROUTES,
            *netsuite_oauth.ROUTES, *netsuite_m2m.ROUTES, *suiteql.ROUTES, *control.ROUTES,
            *shipbob_oauth.ROUTES, *shipbob_api.ROUTES,
        ]
        self.url_map = Map([Rule(r.path, endpoint=r, methods=list(r.methods)) for r in routes], strict_slashes=False)

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            route, args = self.url_map.bind_to_environ(environ).match()
        except (NotFound, MethodNotAllowed) as exc:
            return json_response({"error": exc.name, "path": request.path}, status=exc.code)(environ, start_response)
        except HTTPException as exc:  # e.g. a redirect for a trailing slash
            return exc(environ, start_response)
        response = self.dispatch(route, request, args)
        return response(environ, start_response)

    def dispatch(self, route: Route, request: Request, args: dict) -> Response:
        if not route.provider:
            return route.handler(self, request, **args)
        account = args.get("shop") or args.get("account_host") or ""
        keys = (route.provider, f"{route.provider}:{account}") if account else (route.provider,)
        self.state.counters.enter(*keys)
        status = 500
        try:
            response = self._faulted(route, request, account) if route.faults else None
            if response is None:
                response = route.handler(self, request, **args)
            status = response.status_code
            return response
        except Exception:  # a sandbox bug must answer like a provider outage, not kill the thread
            log.exception("sandbox handler failed: %s %s", request.method, request.path)
            return FAULT_ANSWERS[route.provider](500, None)
        finally:
            self.state.counters.leave(status, *keys)

    def _faulted(self, route: Route, request: Request, account: str) -> Response | None:
        faults = self.state.faults[route.provider]
        if faults.latency_ms:
            self.state.shutdown.wait(faults.latency_ms / 1000)
        fault = faults.draw()
        if fault.timeout:
            self.state.shutdown.wait(fault.timeout)
        if fault.status:
            return FAULT_ANSWERS[route.provider](fault.status, fault.retry_after)
        if route.provider == "netsuite":
            return suiteql.concurrency_exceeded(self.state, account)
        if route.provider == "square":
            return square_common.rate_limited(self.state, request)
        if route.provider == "shipbob" and "/connect/" not in request.path:
            return shipbob_common.rate_limited(self.state, request)
        return None


POLL_SECONDS = 0.05  # how often the in-thread server checks for a stop request


class SandboxServer:
    """The sandbox on a threaded WSGI server in a background thread (tests, or ``runsandbox``)."""

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 nice: int | None = None):
        """``nice``: the serving thread's nice value (Linux; the request threads it starts inherit it), for a
        benchmark where the sandbox stands in for a provider's servers and must not take the portal's CPU."""
        self.nice = nice
        self.state = SandboxState(config or SandboxConfig())
        self.app = SandboxApp(self.state)
        self.server = make_server(host, port, self.app, threaded=True, request_handler=QuietQueryHandler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        # stop() waits in shutdown() until the serving loop next wakes up; at socketserver's default poll interval
        # (0.5 s) that was half a second per sandbox the tests start and stop (~150 of them).
        self.thread = threading.Thread(target=self._serve_in_thread, name="sandbox", daemon=True)

    def _serve_in_thread(self) -> None:
        if self.nice is not None:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        self.server.serve_forever(poll_interval=POLL_SECONDS)

    def start(self) -> SandboxServer:
        self.thread.start()
        self.app.webhooks.start()
        return self

    def stop(self) -> None:
        self.state.shutdown.set()
        self.app.webhooks.stop()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def serve_forever(self) -> None:
        """Serve in this thread until stopped: the sandbox owns the process (``runsandbox``, benchmarks)."""
        # A page of 1000 Square orders builds ~100k dicts; at the default threshold (700) the cyclic GC ran over
        # and over while building each one. Everything here is freed by reference counting; the process is ours.
        gc.set_threshold(50_000, *gc.get_threshold()[1:])
        self.app.webhooks.start()
        try:
            self.server.serve_forever()
        finally:
            self.state.shutdown.set()
            self.app.webhooks.stop()


def wait_ready(url: str, timeout: float = 10.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/_sandbox/health", timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError(f"sandbox at {url} did not start")
