"""One error shape for every API failure, so clients parse errors the same way everywhere:

    {"status": 400, "code": "invalid", "detail": "Invalid request.",
     "errors": [{"field": "store", "code": "invalid_choice", "message": "Select a valid choice..."}]}

``field`` names the offending query parameter or body field (null for errors about the request as a whole).
Headers DRF sets on the exception (``Retry-After`` on 429, ``WWW-Authenticate`` on 401) are kept.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler

from shelfops.outage import dependency_down, retry_after_seconds, unavailable_payload
from shelfops.outage import log as outage_log


def _flatten(detail, field=None):
    """DRF error details are nested dicts/lists of ErrorDetail; flatten them to field/code/message rows."""
    if isinstance(detail, dict):
        rows = []
        for key, value in detail.items():
            name = key if field is None else f"{field}.{key}"
            rows.extend(_flatten(value, None if key == "non_field_errors" else name))
        return rows
    if isinstance(detail, list):
        rows = []
        for item in detail:
            rows.extend(_flatten(item, field))
        return rows
    return [{"field": field, "code": getattr(detail, "code", None) or "invalid", "message": str(detail)}]


def api_exception_handler(exc, context):
    # Django's own exceptions, converted as DRF would, so the code below sees DRF exceptions only.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    dependency = dependency_down(exc)
    if dependency is not None:
        # Database or Redis down: a retryable 503 in the API's error shape, never an HTML 500.
        outage_log.warning("API %s: %s unavailable, answered 503", context["request"].path, dependency)
        exc = exceptions.APIException()
        exc.status_code = 503
        response = exception_handler(exc, context)
        response.data = unavailable_payload(dependency)
        response["Retry-After"] = str(retry_after_seconds())
        return response
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: a real bug, left to Django's 500 handling and logging
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = "Invalid request: " + "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
        )
        code = "invalid"
    else:
        detail = str(exc.detail)
        code = getattr(exc.detail, "code", None) or exc.default_code
        errors = []
    response.data = {"status": response.status_code, "code": code, "detail": detail, "errors": errors}
    return response


@csrf_exempt  # token-authenticated API paths have no CSRF cookie; a PATCH to a wrong URL is still a 404
def json_not_found(request, *args, **kwargs):
    """Unknown URLs under /api/ answer in the API's error shape instead of Django's HTML page."""
    return JsonResponse(
        {"status": 404, "code": "not_found", "detail": f"No API endpoint at {request.path}.", "errors": []},
        status=404,
    )


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The offending parameter or field; null if none.")
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Schema of every error response (documentation only)."""

    status = serializers.IntegerField()
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, not_authenticated, throttled...")
    detail = serializers.CharField(help_text="Human-readable summary.")
    errors = ErrorItemSerializer(many=True)
