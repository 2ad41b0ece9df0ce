"""Square error bodies: ``{"errors": [{"category", "code", "detail", "field"}]}``."""

from integrations.http.errorparsing import ParsedError

AUTH_CODES = {"UNAUTHORIZED", "ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_REVOKED", "INSUFFICIENT_SCOPES", "FORBIDDEN"}


def parse_error(status, payload) -> ParsedError:
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(errors, list):
        return ParsedError()
    codes, details, categories = [], [], set()
    for error in errors:
        if not isinstance(error, dict):
            continue
        if error.get("code"):
            codes.append(str(error["code"]))
        categories.add(error.get("category"))
        text = str(error.get("detail") or "")
        if error.get("field"):
            text = f"{text} (field {error['field']})"
        if text:
            details.append(text)
    return ParsedError(
        codes=codes,
        detail="; ".join(details),
        rate_limited="RATE_LIMITED" in codes or "RATE_LIMIT_ERROR" in categories,
        auth="AUTHENTICATION_ERROR" in categories or bool(AUTH_CODES & set(codes)),
    )
