"""Telling a dependency outage (database or Redis unreachable) apart from a bug, and answering it the same way
everywhere: 503 with ``Retry-After``, JSON for API and webhook clients, never Django's HTML 500 page.

Used by the API's exception handler (inside DRF) and by ``DependencyOutageMiddleware`` (everything else)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

log = logging.getLogger("shelfops.outage")


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def dependency_down(exc: BaseException) -> str | None:
    """Which dependency ``exc`` says is down ("database", "redis"), or None when it is not an outage.

    Only connection-level errors count: an IntegrityError or a bad query is a bug and stays a 500."""
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    if isinstance(exc, _redis_errors()):
        return "redis"
    return None


def retry_after_seconds() -> int:
    return getattr(settings, "API_UNAVAILABLE_RETRY_AFTER_SECONDS", 30)


def unavailable_payload(dependency: str) -> dict:
    return {
        "status": 503,
        "code": "service_unavailable",
        "detail": f"A service this request needs ({dependency}) is unavailable; retry later.",
        "errors": [],
    }


def wants_json(request) -> bool:
    path = request.path
    accept = request.headers.get("Accept", "")
    return path.startswith(("/api/", "/webhooks/")) or "json" in accept


def unavailable_response(request, dependency: str):
    # The exception's text can carry a host name or a DSN fragment: it goes to the log, never to the client.
    log.warning("%s %s: %s unavailable, answered 503", request.method, request.path, dependency)
    retry_after = str(retry_after_seconds())
    if wants_json(request):
        response = JsonResponse(unavailable_payload(dependency), status=503)
    else:
        response = HttpResponse(
            "<!doctype html><title>Temporarily unavailable</title><h1>Temporarily unavailable</h1>"
            f"<p>ShelfOps cannot reach a service it needs ({dependency}). Please try again in a minute.</p>",
            status=503,
        )
    response["Retry-After"] = retry_after
    return response


class DependencyOutageMiddleware:
    """Turns a database or Redis outage raised anywhere in a view into a 503 with ``Retry-After``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        dependency = dependency_down(exception)
        if dependency is None:
            return None
        return unavailable_response(request, dependency)


def server_error(request, *args, **kwargs):
    """``handler500``: an outage raised outside a view (a middleware reading the session or the user, the second
    factor check...) never reaches ``process_exception``; Django turns it into a 500 and calls this handler while
    the exception is still being handled, so it is answered as the outage it is."""
    import sys

    from django.views.defaults import server_error as default_server_error

    exc = sys.exc_info()[1]
    dependency = dependency_down(exc) if exc is not None else None
    if dependency is not None:
        return unavailable_response(request, dependency)
    return default_server_error(request, *args, **kwargs)
