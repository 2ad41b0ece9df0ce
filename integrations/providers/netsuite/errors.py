"""NetSuite error bodies for the resilient client (provider-facts 3.3, "Errors" and "Governance").

REST web services answer ``{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode", ...}]}``.
The account-wide concurrency pool being full shows up as HTTP 429 for REST web services, and as the codes below
from RESTlets (HTTP 400) and SOAP; the exact REST code is not documented, so any of them means "pool full: back
off and retry", whatever the status.
"""

from __future__ import annotations

from integrations.http.errorparsing import ParsedError

POOL_FULL_CODES = frozenset({
    "SSS_REQUEST_LIMIT_EXCEEDED",
    "WS_REQUEST_BLOCKED",
    "ExceededConcurrentRequestLimitFault",
    "ExceededRequestLimitFault",
    "CONCURRENCY_LIMIT_EXCEEDED",
})
AUTH_CODES = frozenset({"INVALID_LOGIN", "INVALID_LOGIN_ATTEMPT", "INVALID_TOKEN", "invalid_client"})


def parse_error(status: int | None, payload) -> ParsedError:
    if not isinstance(payload, dict):
        return ParsedError()
    codes: list[str] = []
    details: list[str] = []
    for item in payload.get("o:errorDetails") or []:
        if not isinstance(item, dict):
            continue
        if item.get("o:errorCode"):
            codes.append(str(item["o:errorCode"]))
        if item.get("detail"):
            details.append(str(item["detail"]))
    if isinstance(payload.get("error"), str):  # the OAuth token endpoint answers RFC 6749 errors
        codes.append(payload["error"])
        details.append(str(payload.get("error_description") or ""))
    detail = "; ".join(d for d in details if d) or str(payload.get("title") or "")
    return ParsedError(
        codes=codes,
        detail=detail,
        rate_limited=bool(POOL_FULL_CODES.intersection(codes)),
        auth=bool(AUTH_CODES.intersection(codes)),
    )


def is_row_cap_error(exc) -> bool:
    """Whether a ProviderError is NetSuite refusing to page past the 100,000-row cap of one query."""
    text = f"{getattr(exc, 'detail', '')}".lower()
    return getattr(exc, "status", None) == 400 and "100000" in text.replace(",", "")
