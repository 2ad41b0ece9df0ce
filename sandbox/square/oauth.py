"""Square OAuth (provider-facts 1.2): authorize page, token (code flow and PKCE), refresh, revoke, status.

- Codes: ``sq0cgp-`` prefix, single use, expire after 5 minutes.
- Access tokens last 30 days (24 h with ``short_lived``); the answer carries ``expires_at`` as an ISO string and
  no ``expires_in``.
- Code-flow refresh tokens never expire and a refresh returns the *same* one; PKCE refresh tokens are single use,
  last 90 days and rotate (``refresh_token_expires_at`` is set).
- Revoke authenticates with ``Authorization: Client <secret>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from werkzeug.wrappers import Request

from ..http import Route, bearer_token, consent_page, error_page, json_response, loopback_or_portal, redirect_with
from ..state import Grant
from .common import errors, merchant_id

CODE_SECONDS = 5 * 60
ACCESS_SECONDS = 30 * 86400
SHORT_LIVED_SECONDS = 86400
PKCE_REFRESH_SECONDS = 90 * 86400


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _unauthorized(detail: str):
    return errors(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED", detail)


def authorize(app, request: Request):
    cfg = app.state.config
    params = request.values
    if params.get("client_id") != cfg.square_client_id:
        return error_page("Square: invalid request", "Unknown client_id: no application is registered with it.")
    redirect_uri = params.get("redirect_uri", "")
    default_uri = f"{cfg.portal_base_url}/integrations/square/callback/"
    if not loopback_or_portal(redirect_uri or default_uri, cfg.portal_base_url, cfg.redirect_uris):
        return error_page("Square: invalid request", "The redirect_uri does not match the application's.")
    scopes = [s for s in params.get("scope", "").replace("+", " ").split() if s]
    if request.method == "GET":
        hidden = {k: params.get(k, "") for k in ("client_id", "scope", "state", "redirect_uri", "code_challenge")}
        return consent_page("Square", "ShelfOps", "Sandbox Seller", scopes, request.path, hidden)
    target = redirect_uri or default_uri
    state_value = params.get("state")
    if params.get("decision") != "allow":
        return redirect_with(target, {"error": "access_denied", "error_description": "user_denied",
                                      "state": state_value})
    grant = Grant("square", merchant_id(cfg.seed), cfg.square_client_id, redirect_uri, scopes,
                  app.state.now() + CODE_SECONDS, code_challenge=params.get("code_challenge", ""),
                  code_challenge_method="S256" if params.get("code_challenge") else "")
    code = app.state.issue_code(grant, prefix="sq0cgp-")
    return redirect_with(target, {"code": code, "response_type": "code", "state": state_value})


def token(app, request: Request):
    state, cfg = app.state, app.state.config
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return errors(400, "INVALID_REQUEST_ERROR", "INVALID_CONTENT_TYPE", "The body must be a JSON object.")
    grant_type = body.get("grant_type", "")
    state.counters.count_token_call("square", grant_type or "?")
    if body.get("client_id") != cfg.square_client_id:
        return _unauthorized("Invalid client_id.")
    secret = body.get("client_secret")
    if secret is not None and not hmac.compare_digest(str(secret), cfg.square_client_secret):
        return _unauthorized("Invalid client_secret.")
    if grant_type == "authorization_code":
        return _exchange_code(state, body, secret)
    if grant_type == "refresh_token":
        return _refresh(state, body, secret)
    if grant_type == "migration_token":
        return errors(400, "INVALID_REQUEST_ERROR", "BAD_REQUEST", "Migration tokens are not supported here.")
    return errors(400, "INVALID_REQUEST_ERROR", "INVALID_VALUE", "Unsupported grant_type.", "grant_type")


def _exchange_code(state, body: dict, secret):
    with state.lock:
        grant = state.grants.get(body.get("code") or "")
        if grant is None or grant.provider != "square":
            return _unauthorized("Authorization code not found.")
        if grant.used:
            return _unauthorized("Authorization code is already redeemed.")
        if grant.expires_at <= state.now():
            return _unauthorized("Authorization code is expired.")
        pkce = bool(grant.code_challenge)
        if pkce:
            verifier = body.get("code_verifier") or ""
            if not hmac.compare_digest(s256(verifier), grant.code_challenge):
                return _unauthorized("Invalid code_verifier.")
        elif secret is None:
            return errors(400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER",
                          "Field must be set", "client_secret")
        if grant.redirect_uri and body.get("redirect_uri") != grant.redirect_uri:
            return _unauthorized("The redirect_uri does not match the one used to authorize.")
        grant.used = True
    return json_response(_issue(state, grant.account, grant.client_id, grant.scopes, pkce,
                                bool(body.get("short_lived")), refresh_token=None))


def _refresh(state, body: dict, secret):
    value = body.get("refresh_token") or ""
    with state.lock:
        refresh = state.token(value, "square", kind="refresh")
        if refresh is None or refresh.revoked or state.token_expired(refresh):
            return _unauthorized("Invalid refresh token.")
        pkce = bool(refresh.extra.get("pkce"))
        if not pkce and secret is None:
            return errors(400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER",
                          "Field must be set", "client_secret")
        if pkce:
            refresh.revoked = True  # PKCE refresh tokens are single use and rotate
        keep = None if pkce else value
    return json_response(_issue(state, refresh.account, refresh.client_id, refresh.scopes, pkce,
                                bool(body.get("short_lived")), refresh_token=keep))


def _issue(state, account: str, client_id: str, scopes: list[str], pkce: bool, short_lived: bool,
           refresh_token: str | None) -> dict:
    lifetime = SHORT_LIVED_SECONDS if short_lived else ACCESS_SECONDS
    access = state.issue_token("square", account, client_id, "access", lifetime, prefix="EAAAl", scopes=scopes)
    answer = {"access_token": access, "token_type": "bearer", "expires_at": iso(state.now() + lifetime),
              "merchant_id": account, "short_lived": short_lived}
    if refresh_token is None:
        refresh_token = state.issue_token("square", account, client_id, "refresh",
                                          PKCE_REFRESH_SECONDS if pkce else None, prefix="EQAAl", scopes=scopes,
                                          pkce=pkce)
    answer["refresh_token"] = refresh_token
    if pkce:
        answer["refresh_token_expires_at"] = iso(state.tokens[refresh_token].expires_at)
    return answer


def revoke(app, request: Request):
    state, cfg = app.state, app.state.config
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Client ") or not hmac.compare_digest(auth[7:].strip(), cfg.square_client_secret):
        return _unauthorized("Revoke requires the header 'Authorization: Client <application secret>'.")
    body = request.get_json(silent=True) or {}
    if body.get("client_id") != cfg.square_client_id:
        return _unauthorized("Invalid client_id.")
    access, merchant = body.get("access_token"), body.get("merchant_id")
    if bool(access) == bool(merchant):
        return errors(400, "INVALID_REQUEST_ERROR", "BAD_REQUEST", "Exactly one of access_token or merchant_id.")
    if access:
        target = state.token(access, "square")
        if target is None:
            return errors(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", "Access token not found.")
        merchant = target.account
    if body.get("revoke_only_access_token") and access:
        state.revoke(lambda t: t.provider == "square" and t.kind == "access" and state.tokens.get(access) is t)
    else:  # without the flag every token of the app for that seller goes
        state.revoke(lambda t: t.provider == "square" and t.account == merchant)
    return json_response({"success": True})


def token_status(app, request: Request):
    token = app.state.token(bearer_token(request), "square")
    if token is None or token.revoked or app.state.token_expired(token):
        return _unauthorized("This request could not be authorized.")
    return json_response({"scopes": token.scopes, "expires_at": iso(token.expires_at),
                          "client_id": token.client_id, "merchant_id": token.account})


ROUTES = [
    Route("/square/oauth2/authorize", authorize, ("GET", "POST"), provider="square", faults=False),
    Route("/square/oauth2/token", token, ("POST",), provider="square"),
    Route("/square/oauth2/revoke", revoke, ("POST",), provider="square"),
    Route("/square/oauth2/token/status", token_status, ("POST",), provider="square"),
]
