"""ShipBob's identity server (``auth.shipbob.com``; ``authstage.shipbob.com`` for ShipBob's sandbox).

Facts (developer.shipbob.com "Authentication" and "Migrate to PKCE", checked with the search tool):
- ``GET /connect/authorize`` with ``client_id``, ``scope`` (space separated; ``offline_access`` for a refresh
  token), ``redirect_uri`` (must match a registered one), ``state``, ``nonce``, ``response_type=code``, and PKCE
  ``code_challenge`` + ``code_challenge_method=S256``.
- ``POST /connect/token`` (form-encoded, an OpenID Connect token endpoint): the code exchange still needs
  ``client_secret`` besides ``code_verifier``; ``grant_type=refresh_token`` renews.
- Personal access tokens: made in the merchant dashboard, never expire, full access. Here
  ``POST /_sandbox/shipbob/<user>/pat`` makes one.

Uncertain (not stated in the docs found): token lifetimes and whether refresh tokens rotate. The stand-in issues
1-hour access tokens and rotates refresh tokens on use (IdentityServer's one-time-only default), which is the
stricter case for the portal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from werkzeug.wrappers import Request

from ..http import Route, consent_page, error_page, json_response, loopback_or_portal, redirect_with
from ..state import Grant
from .common import DEFAULT_USER

CODE_SECONDS = 5 * 60
ACCESS_SECONDS = 3600
SCOPES = {"channels_read", "orders_read", "products_read", "inventory_read", "fulfillments_read", "webhooks_read",
          "webhooks_write", "locations_read", "receiving_read", "returns_read", "offline_access", "openid"}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _oauth_error(error: str, description: str, status: int = 400):
    return json_response({"error": error, "error_description": description}, status=status)


def authorize(app, request: Request):
    cfg = app.state.config
    params = request.values
    if params.get("client_id") != cfg.shipbob_client_id:
        return error_page("ShipBob: invalid request", "Unknown client_id: no application is registered with it.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not loopback_or_portal(redirect_uri, cfg.portal_base_url, cfg.redirect_uris):
        return error_page("ShipBob: invalid request", "The redirect_uri does not match the application's.")
    scopes = [s for s in params.get("scope", "").split() if s]
    unknown = set(scopes) - SCOPES
    if unknown:
        return redirect_with(redirect_uri, {"error": "invalid_scope", "state": params.get("state")})
    if params.get("response_type") != "code":
        return redirect_with(redirect_uri, {"error": "unsupported_response_type", "state": params.get("state")})
    if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
        return redirect_with(redirect_uri, {"error": "invalid_request", "error_description": "PKCE S256 required",
                                            "state": params.get("state")})
    if request.method == "GET":
        hidden = {k: params.get(k, "") for k in ("client_id", "scope", "state", "redirect_uri", "code_challenge",
                                                 "code_challenge_method", "nonce", "response_type")}
        return consent_page("ShipBob", "ShelfOps", f"ShipBob user {DEFAULT_USER}", scopes, request.path, hidden)
    if params.get("decision") != "allow":
        return redirect_with(redirect_uri, {"error": "access_denied", "state": params.get("state")})
    grant = Grant("shipbob", DEFAULT_USER, cfg.shipbob_client_id, redirect_uri, scopes,
                  app.state.now() + CODE_SECONDS, code_challenge=params["code_challenge"],
                  code_challenge_method="S256")
    code = app.state.issue_code(grant)
    return redirect_with(redirect_uri, {"code": code, "scope": " ".join(scopes), "state": params.get("state")})


def token(app, request: Request):
    state, cfg = app.state, app.state.config
    form = request.form
    grant_type = form.get("grant_type", "")
    state.counters.count_token_call("shipbob", grant_type or "?")
    if form.get("client_id") != cfg.shipbob_client_id or not hmac.compare_digest(
            form.get("client_secret", ""), cfg.shipbob_client_secret):
        return _oauth_error("invalid_client", "Unknown client or wrong secret.", 401)
    if grant_type == "authorization_code":
        with state.lock:
            grant = state.grants.get(form.get("code") or "")
            if grant is None or grant.provider != "shipbob" or grant.used or grant.expires_at <= state.now():
                return _oauth_error("invalid_grant", "The code is unknown, used or expired.")
            if not hmac.compare_digest(s256(form.get("code_verifier", "")), grant.code_challenge):
                return _oauth_error("invalid_grant", "code_verifier does not match the code_challenge.")
            if form.get("redirect_uri") != grant.redirect_uri:
                return _oauth_error("invalid_grant", "redirect_uri differs from the authorize request's.")
            grant.used = True
        return json_response(_issue(state, grant.account, grant.client_id, grant.scopes))
    if grant_type == "refresh_token":
        with state.lock:
            refresh = state.token(form.get("refresh_token", ""), "shipbob", kind="refresh")
            if refresh is None or refresh.revoked or state.token_expired(refresh):
                return _oauth_error("invalid_grant", "The refresh token is invalid.")
            refresh.revoked = True  # one-time use: the answer carries a new one
        return json_response(_issue(state, refresh.account, refresh.client_id, refresh.scopes))
    return _oauth_error("unsupported_grant_type", "Use authorization_code or refresh_token.")


def _issue(state, user: str, client_id: str, scopes: list[str]) -> dict:
    access = state.issue_token("shipbob", user, client_id, "access", ACCESS_SECONDS, scopes=scopes)
    answer = {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_SECONDS,
              "scope": " ".join(scopes)}
    if "offline_access" in scopes:
        answer["refresh_token"] = state.issue_token("shipbob", user, client_id, "refresh", 30 * 86400,
                                                    scopes=scopes)
    return answer


def issue_pat(app, request: Request, user: str):
    """Control API: the personal access token a merchant would generate in the ShipBob dashboard (user
    ``default`` = the demo user)."""
    user = DEFAULT_USER if user == "default" else user
    value = app.state.issue_token("shipbob", user, "pat", "access", None, scopes=sorted(SCOPES), pat=True)
    return json_response({"token": value, "user": user}, 201)


ROUTES = [
    Route("/shipbob/auth/connect/authorize", authorize, ("GET", "POST"), provider="shipbob", faults=False),
    Route("/shipbob/auth/connect/token", token, ("POST",), provider="shipbob"),
    Route("/_sandbox/shipbob/<user>/pat", issue_pat, ("POST",)),
]
