"""OpenAPI details drf-spectacular cannot infer: the token auth scheme and the error responses every operation
can give (documented so clients, and Schemathesis, can rely on the status codes)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .errors import ErrorSerializer

ERROR_RESPONSES = {
    "400": "Invalid parameter or body; `errors[].field` names it.",
    "401": "Missing, invalid or revoked token.",
    "403": "The token may not use this endpoint (staff only) or this method.",
    "404": "No such row for your retailer (another retailer's rows do not exist for you).",
    "429": "Too many requests for this token; retry after `Retry-After` seconds.",
}


class RetailerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inventory.api.authentication.RetailerTokenAuthentication"
    name = "RetailerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Token <key>`. Tokens belong to one retailer; staff create and revoke "
            "them in admin. Every response only contains that retailer's rows.",
        }


class ShelfOpsAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, description in ERROR_RESPONSES.items():
            if status not in responses:
                # Always JSON, also for operations that answer NDJSON/CSV on success (the exports).
                responses[status] = self._get_response_for_code(
                    OpenApiResponse(response=ErrorSerializer, description=description), status,
                    media_types=["application/json"], direction=direction,
                )
        return responses
