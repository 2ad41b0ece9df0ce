"""ShipBob error bodies: RFC 7807 problem details (``title``, ``detail``, ``errors``) and, on a 429,
``{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 25 seconds."}``."""

from integrations.http.errorparsing import ParsedError


def parse_error(status, payload) -> ParsedError:
    if not isinstance(payload, dict):
        return ParsedError(rate_limited=status == 429, auth=status == 401)
    detail = str(payload.get("detail") or payload.get("message") or payload.get("title") or "")[:300]
    errors = payload.get("errors")
    if isinstance(errors, dict):  # validation problems: {"field": ["message", ...]}
        detail = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                           for k, v in errors.items())[:300] or detail
    codes = [str(payload["title"])] if payload.get("title") else []
    return ParsedError(codes=codes, detail=detail, rate_limited=status == 429, auth=status == 401)
