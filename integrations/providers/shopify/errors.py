"""Shopify error bodies.

REST: ``{"errors": "Not Found"}`` or ``{"errors": {"title": ["can't be blank"]}}``; GraphQL:
``{"errors": [{"message", "extensions": {"code": "THROTTLED" | "MAX_COST_EXCEEDED" | ...}}]}``; OAuth:
``{"error": "...", "error_description": "..."}`` (left to the generic parser)."""

from integrations.http.errorparsing import ParsedError


def parse_error(status, payload) -> ParsedError:
    if not isinstance(payload, dict) or "errors" not in payload:
        return ParsedError()
    errors = payload["errors"]
    if isinstance(errors, str):
        return ParsedError(detail=errors, auth=status == 401)
    if isinstance(errors, dict):  # field -> messages
        codes = [str(k) for k in errors]
        detail = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
        return ParsedError(codes=codes, detail=detail)
    codes, details = [], []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        code = (error.get("extensions") or {}).get("code")
        if code:
            codes.append(str(code))
        if error.get("message"):
            details.append(str(error["message"]))
    return ParsedError(codes=codes, detail="; ".join(details), rate_limited="THROTTLED" in codes,
                       auth=bool({"ACCESS_DENIED", "UNAUTHORIZED"} & set(codes)) or status == 401)
