"""``GET /metrics`` (Prometheus text format). In production mode it answers only with
``Authorization: Bearer <METRICS_TOKEN>`` (401 otherwise, and always when no token is configured)."""

import hmac

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def authorized(request) -> bool:
    if getattr(settings, "SHELFOPS_ENV", "local") != "production":
        return True
    expected = getattr(settings, "METRICS_TOKEN", "") or ""
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@require_GET
def metrics(request):
    if not authorized(request):
        response = HttpResponse("Unauthorized: send Authorization: Bearer <METRICS_TOKEN>.\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from .metrics import registry

    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
