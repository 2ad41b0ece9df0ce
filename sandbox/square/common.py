"""Square ids, error bodies and the bearer-token check shared by the Square OAuth and API modules."""

from __future__ import annotations

import base64
import hashlib

from werkzeug.wrappers import Request, Response

from ..http import bearer_token, json_response

B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


def _b32(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        out.append(B32[digit])
    return "".join(reversed(out))


def _check(seed: str, kind: str, index: int, width: int) -> str:
    digest = hashlib.blake2b(f"{seed}:{kind}:{index}".encode(), digest_size=16).digest()
    return base64.b32encode(digest).decode()[:width]


def make_id(seed: str, kind: str, index: int, length: int = 24) -> str:
    """A Square-looking id that encodes its index (so lookups need no table) plus a seed-bound check part."""
    return kind + _b32(index, 7) + _check(seed, kind, index, length - 8)


def parse_id(seed: str, kind: str, value: str, length: int = 24) -> int | None:
    if not isinstance(value, str) or len(value) != length or not value.startswith(kind):
        return None
    index = 0
    for ch in value[1:8]:
        if ch not in B32:
            return None
        index = index * 32 + B32.index(ch)
    return index if value == make_id(seed, kind, index, length) else None


def merchant_id(seed: str) -> str:
    return "ML" + _check(seed, "merchant", 0, 11)


def errors(status: int, category: str, code: str, detail: str, field: str | None = None,
           headers: dict | None = None) -> Response:
    error = {"category": category, "code": code, "detail": detail}
    if field:
        error["field"] = field
    return json_response({"errors": [error]}, status=status, headers=headers)


def bad_request(detail: str, field: str | None = None, code: str = "INVALID_VALUE") -> Response:
    return errors(400, "INVALID_REQUEST_ERROR", code, detail, field)


def fault_response(status: int, retry_after: int | None) -> Response:
    if status == 429:
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return errors(429, "RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate limited. Please try again later.",
                      headers=headers)
    if status == 504:
        return errors(504, "API_ERROR", "GATEWAY_TIMEOUT", "Gateway timeout.")
    return errors(status, "API_ERROR", "SERVICE_UNAVAILABLE" if status == 503 else "INTERNAL_SERVER_ERROR",
                  "The service is temporarily unavailable." if status == 503 else "An internal error occurred.")


def authenticate(state, request: Request, scope: str | None = None):
    """(token, None) for a good bearer token, else (None, Square's 401/403 answer)."""
    value = bearer_token(request)
    token = state.token(value, "square")
    faults = state.faults["square"]
    if token is None:
        return None, errors(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized.")
    if token.revoked or faults.token_state == "revoked":
        return None, errors(401, "AUTHENTICATION_ERROR", "ACCESS_TOKEN_REVOKED", "The access token has been revoked.")
    if state.token_expired(token) or faults.token_state == "expired":
        return None, errors(401, "AUTHENTICATION_ERROR", "ACCESS_TOKEN_EXPIRED", "The access token has expired.")
    if scope and scope not in token.scopes:
        return None, errors(403, "AUTHENTICATION_ERROR", "INSUFFICIENT_SCOPES",
                            f"The merchant has not given your application sufficient permissions "
                            f"to do that. The `{scope}` scope is required.")
    return token, None


def rate_limited(state, request: Request) -> Response | None:
    """Square publishes no limits; with ``square_requests_per_second`` set, a token bucket per access token's
    merchant (burst = one second's worth) answers 429 RATE_LIMITED when empty."""
    rate = state.faults["square"].square_requests_per_second
    if not rate:
        return None
    token = state.token(bearer_token(request), "square")
    key = token.account if token else "anonymous"
    now = state.now()
    with state.lock:
        buckets = state.square_buckets
        level, last = buckets.get(key, (rate, now))
        level = min(rate, level + (now - last) * rate)
        if level < 1:
            buckets[key] = (level, now)
            return errors(429, "RATE_LIMIT_ERROR", "RATE_LIMITED",
                          "Application is rate limited, please try again in a few minutes.")
        buckets[key] = (level - 1, now)
    return None
