"""ShipBob ids, error bodies, the bearer-token check (OAuth access tokens and personal access tokens) and the
rate limit every API route passes through.

Facts (developer.shipbob.com "Rate limit", checked with the search tool): 150 requests per minute per user and
application, sliding window, across all endpoints; a 429 carries ``x-retry-after`` (seconds) and
``x-remaining-calls``. The window and limit are ``Faults`` settings so a benchmark may shorten the window
(``POST /_sandbox/faults/shipbob {"shipbob_window_seconds": 6}``); the limit itself stays 150.
"""

from __future__ import annotations

import math
from collections import deque

from werkzeug.wrappers import Request, Response

from ..data import rand
from ..http import bearer_token, json_response

DEFAULT_USER = "226071"  # the demo account's ShipBob user id (the default account of the control API)
API_VERSIONS = ("2025-07", "2026-01", "2026-07")
# ShipBob fulfilment centres (ids and names as in ShipBob's FAQ sample and its public facility list).
FULFILMENT_CENTRES = [
    (228, "Moreno Valley (CA)", "28010 Eucalyptus Ave", "Moreno Valley", "CA", "92555", "Pacific Standard Time"),
    (11, "Cicero (IL)", "5900 W Ogden Ave", "Cicero", "IL", "60804", "Central Standard Time"),
    (29, "Bethlehem (PA)", "2160 Emrick Blvd", "Bethlehem", "PA", "18020", "Eastern Standard Time"),
    (156, "Dallas (TX)", "1900 Diplomat Dr", "Dallas", "TX", "75234", "Central Standard Time"),
    (43, "Riverside (CA)", "6400 Jurupa Ave", "Riverside", "CA", "92504", "Pacific Standard Time"),
]
INVENTORY_ID_BASE = 4_000_000
PRODUCT_ID_BASE = 7_000_000
ORDER_ID_BASE = 300_000_000
SHIPMENT_ID_BASE = 500_000_000


def fulfilment_centre(index: int) -> tuple:
    return FULFILMENT_CENTRES[index % len(FULFILMENT_CENTRES)]


def fc_index(fc_id: int, locations: int) -> int | None:
    for i in range(locations):
        if fulfilment_centre(i)[0] == fc_id:
            return i
    return None


def channel_id(user: str, app: str) -> int:
    """The channel a token belongs to: one per (user, application), as ShipBob creates at install / first PAT."""
    return 100_000 + rand(f"{user}:{app}", "channel", 0) % 900_000


def problem(status: int, title: str, detail: str = "", headers: dict | None = None) -> Response:
    """ShipBob's error body: RFC 7807 problem details (429 answers use its ``{statusCode, message}`` shape)."""
    return json_response({"type": "https://tools.ietf.org/html/rfc9110", "title": title, "status": status,
                          "detail": detail}, status=status, headers=headers)


def fault_response(status: int, retry_after: int | None) -> Response:
    if status == 429:
        wait = str(retry_after or 1)
        return json_response({"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {wait} seconds."},
                             status=429, headers={"x-retry-after": wait, "x-remaining-calls": "0"})
    return problem(status, "Service Unavailable" if status == 503 else "Internal Server Error")


def authenticate(state, request: Request, scope: str | None = None):
    """(token, None) for a valid OAuth access token or PAT, else (None, a 401/403 answer)."""
    token = state.token(bearer_token(request), "shipbob")
    faults = state.faults["shipbob"]
    if token is None or token.revoked or faults.token_state == "revoked":
        return None, problem(401, "Unauthorized", "The access token is invalid or has been revoked.")
    if state.token_expired(token) or faults.token_state == "expired":
        return None, problem(401, "Unauthorized", "The access token has expired.")
    # A PAT has full access to the account; OAuth tokens only what the merchant granted.
    if scope and not token.extra.get("pat") and scope not in token.scopes:
        return None, problem(403, "Forbidden", f"The {scope} scope is required.")
    return token, None


def rate_limited(state, request: Request) -> Response | None:
    """The sliding window: requests of one user + application within the last ``window`` seconds, at most
    ``limit``. Every answer carries ``x-remaining-calls``; a refused one ``x-retry-after`` (whole seconds until
    the oldest request in the window leaves it). Refused requests are not counted."""
    faults = state.faults["shipbob"]
    limit, window = int(faults.shipbob_window_limit), float(faults.shipbob_window_seconds)
    token = state.token(bearer_token(request), "shipbob")
    key = f"{token.account}:{token.client_id}" if token else "anonymous"
    now = state.now()
    with state.lock:
        log: deque = state.shipbob_windows.setdefault(key, deque())
        while log and log[0] <= now - window:
            log.popleft()
        if len(log) >= limit:
            wait = max(1, math.ceil(log[0] + window - now))
            state.counters.count_event("shipbob:throttled")
            return json_response(
                {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {wait} seconds."},
                status=429, headers={"x-retry-after": str(wait), "x-remaining-calls": "0"})
        log.append(now)
        state.shipbob_accepted.append((key, now))
        request.environ["shipbob.remaining"] = str(limit - len(log))
    return None


def with_remaining(request: Request, response: Response) -> Response:
    remaining = request.environ.get("shipbob.remaining")
    if remaining is not None:
        response.headers["x-remaining-calls"] = remaining
    return response
