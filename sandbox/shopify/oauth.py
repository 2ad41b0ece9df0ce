"""Shopify OAuth (provider-facts 2.1), under ``/shopify/{shop}`` standing for ``https://{shop}``.

- Authorize page; the callback carries ``code, hmac, host, shop, state, timestamp`` with ``hmac`` = hex
  HMAC-SHA256 (app secret) over the sorted ``k=v`` pairs, escaped as Shopify's libraries do.
- ``POST /admin/oauth/access_token`` (JSON or form): ``expiring=1`` gives a 60-min token plus a 90-day refresh
  token that rotates on every refresh. Since 2026-08-28 the previous refresh token keeps working until its
  replacement is used. Only one expiring token is active per app + shop: a new one revokes the older ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from werkzeug.wrappers import Request

from ..http import Route, consent_page, error_page, json_response, loopback_or_portal, redirect_with
from ..state import Grant

SHOP_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-]*\.myshopify\.com$")
CODE_SECONDS = 10 * 60
ACCESS_SECONDS = 3600
REFRESH_SECONDS = 90 * 86400
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def callback_hmac(secret: str, params: dict[str, str]) -> str:
    """Shopify's OAuth callback signature (same escaping as ``shopify.Session.calculate_hmac``)."""
    pairs = []
    for key, value in params.items():
        if key in ("hmac", "signature"):
            continue
        key = key.replace("%", "%25").replace("=", "%3D")
        pairs.append(f"{key}={str(value).replace('%', '%25')}".replace("&", "%26"))
    return hmac.new(secret.encode(), "&".join(sorted(pairs)).encode(), hashlib.sha256).hexdigest()


def fault_response(status: int, retry_after: int | None):
    if status == 429:
        return json_response({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
                                        "resume uninterrupted service."}, 429,
                             {"Retry-After": str(retry_after or 2)})
    if status == 504:
        return json_response({"errors": "Gateway Timeout"}, 504)
    return json_response({"errors": "Service Unavailable" if status == 503 else "Internal Server Error"}, status)


def authenticate(state, request: Request, shop: str):
    token = state.token(request.headers.get("X-Shopify-Access-Token", ""), "shopify")
    faults = state.faults["shopify"]
    if (token is None or token.account != shop.lower() or token.revoked or state.token_expired(token)
            or faults.token_state in ("expired", "revoked")):
        return None, json_response({"errors": INVALID_TOKEN}, 401)
    return token, None


def authorize(app, request: Request, shop: str):
    cfg = app.state.config
    params = request.values
    if not SHOP_RE.match(shop):
        return error_page("Shopify: store not found", "There is no store at this address.", 404)
    if params.get("client_id") != cfg.shopify_client_id:
        return error_page("Shopify: Oauth error invalid_request", "The client_id is invalid.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not loopback_or_portal(redirect_uri, cfg.portal_base_url, cfg.redirect_uris):
        return error_page("Shopify: Oauth error invalid_request",
                          "The redirect_uri is missing or not whitelisted for this app.")
    scopes = [s for s in params.get("scope", "").split(",") if s]
    if request.method == "GET":
        hidden = {k: params.get(k, "") for k in ("client_id", "scope", "state", "redirect_uri")}
        return consent_page("Shopify", "ShelfOps", shop, scopes, request.path, hidden)
    if params.get("decision") != "allow":
        return redirect_with(redirect_uri, {"error": "access_denied",
                                            "error_description": "The merchant declined the installation.",
                                            "state": params.get("state")})
    grant = Grant("shopify", shop.lower(), cfg.shopify_client_id, redirect_uri, scopes,
                  app.state.now() + CODE_SECONDS)
    code = app.state.issue_code(grant)
    host = base64.b64encode(f"admin.shopify.com/store/{shop.split('.')[0]}".encode()).decode().rstrip("=")
    answer = {"code": code, "host": host, "shop": shop, "state": params.get("state", ""),
              "timestamp": str(int(app.state.now()))}
    answer["hmac"] = callback_hmac(cfg.shopify_client_secret, answer)
    return redirect_with(redirect_uri, answer)


def access_token(app, request: Request, shop: str):
    state, cfg = app.state, app.state.config
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(body, dict):
        return json_response({"error": "invalid_request", "error_description": "Malformed request body"}, 400)
    grant_type = body.get("grant_type", "authorization_code")
    state.counters.count_token_call("shopify", grant_type)
    if body.get("client_id") != cfg.shopify_client_id or not hmac.compare_digest(
            str(body.get("client_secret", "")), cfg.shopify_client_secret):
        return json_response({"error": "invalid_client", "error_description": "Client credentials are invalid"}, 401)
    shop = shop.lower()
    with state.lock:
        if grant_type == "refresh_token":
            return _refresh(state, shop, body)
        if "grant_type" in body and grant_type != "authorization_code":
            return json_response({"error": "unsupported_grant_type"}, 400)
        grant = state.grants.get(body.get("code") or "")
        if grant is None or grant.provider != "shopify" or grant.account != shop or grant.used \
                or grant.expires_at <= state.now():
            return json_response({"error": "invalid_request",
                                  "error_description": "The authorization code was not found or was already used"},
                                 400)
        grant.used = True
        expiring = str(body.get("expiring", "0")) == "1"
        return json_response(_issue(state, shop, grant.scopes, expiring))


def _refresh(state, shop: str, body: dict):
    value = body.get("refresh_token") or ""
    refresh = state.token(value, "shopify", kind="refresh")
    if refresh is None or refresh.account != shop or refresh.revoked or state.token_expired(refresh):
        return json_response({"error": "invalid_grant",
                              "error_description": "The refresh token is invalid, expired or revoked."}, 400)
    # Using a refresh token retires the one it replaced (kept alive until now for lost-response recovery).
    previous = refresh.extra.get("replaces")
    if previous in state.tokens:
        state.tokens[previous].revoked = True
    return json_response(_issue(state, shop, refresh.scopes, True, replaces=value))


def _issue(state, shop: str, scopes: list[str], expiring: bool, replaces: str | None = None) -> dict:
    if expiring:  # one expiring offline token per app + shop
        state.revoke(lambda t: t.provider == "shopify" and t.account == shop and t.kind == "access")
    access = state.issue_token("shopify", shop, state.config.shopify_client_id, "access",
                               ACCESS_SECONDS if expiring else None, prefix="shpat_", scopes=scopes)
    answer = {"access_token": access, "scope": ",".join(scopes)}
    if expiring:
        answer["expires_in"] = ACCESS_SECONDS
        answer["refresh_token"] = state.issue_token("shopify", shop, state.config.shopify_client_id, "refresh",
                                                    REFRESH_SECONDS, prefix="shprt_", scopes=scopes,
                                                    replaces=replaces)
        answer["refresh_token_expires_in"] = REFRESH_SECONDS
    return answer


ROUTES = [
    Route("/shopify/<shop>/admin/oauth/authorize", authorize, ("GET", "POST"), provider="shopify", faults=False),
    Route("/shopify/<shop>/admin/oauth/access_token", access_token, ("POST",), provider="shopify"),
]
