"""A request id on every log line of a request (and in the ``X-Request-ID`` response header): the proxy's id
when it sends a sane one, a new one otherwise."""

import re
import uuid

from . import logs

SANE_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if SANE_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        logs.bind_request(request_id)
        try:
            response = self.get_response(request)
        finally:
            logs.clear()
        response["X-Request-ID"] = request_id
        return response
