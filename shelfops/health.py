"""Liveness and readiness probes."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    import redis

    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()


def _check_broker() -> None:
    from shelfops.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def readyz(request):
    checks = {"database": _check_database, "broker": _check_broker}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    results, down = {}, []
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a probe reports any failure as "down", with its type
            results[name] = f"down: {type(exc).__name__}"
            down.append(name)
    body = {"status": "ok" if not down else "unavailable", "checks": results}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


class HealthCheckMiddleware:
    """Answers /healthz and /readyz first in the chain, before host validation (CommonMiddleware asks for the
    Host), the HTTPS redirect and sessions: a probe on http://127.0.0.1:8000 inside a container must get the
    real answer with a strict ALLOWED_HOSTS. Every other path goes on untouched."""

    PROBES = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = self.PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
