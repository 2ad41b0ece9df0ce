"""NetSuite OAuth 2.0 authorization code grant (provider-facts 3.2), under
``/netsuite/{account_host}/app`` (= ``https://{acct}.app.netsuite.com``) and ``.../suitetalk``
(= ``https://{acct}.suitetalk.api.netsuite.com``).

- Authorize: ``state`` of 22-1024 printable ASCII characters, PKCE with ``code_challenge_method=S256`` required
  (``plain`` unsupported since 2020.2), scopes from restlets / rest_webservices / suite_analytics.
- Token: form body, ``Authorization: Basic base64(client_id:client_secret)`` (confidential) or ``client_id`` in the
  body (public). JWT access tokens, ``expires_in: "3600"``; confidential refresh tokens last 7 days and are reused;
  public ones last 3 h, are single use and rotate. Errors are OAuth's ``{"error": ...}`` answers.

Kept in its own package so the M2M (client credentials, JWT assertion) grant can be added beside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import jwt
from werkzeug.wrappers import Request

from ..http import Route, bearer_token, consent_page, error_page, json_response, loopback_or_portal, redirect_with
from ..state import Grant

SCOPES = {"restlets", "rest_webservices", "suite_analytics"}
CODE_SECONDS = 10 * 60
ACCESS_SECONDS = 3600
REFRESH_SECONDS = 7 * 86400
PUBLIC_REFRESH_SECONDS = 3 * 3600


def account_id(account_host: str) -> str:
    """1234567-sb1 (host form) -> 1234567_SB1 (account id form)."""
    return account_host.upper().replace("-", "_")


def problem(status: int, title: str, code: str, detail: str, headers: dict | None = None):
    """NetSuite REST's error body (RFC 9457 problem + o:errorDetails)."""
    return json_response({"type": f"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.{5 if status < 500 else 6}",
                          "title": title, "status": status,
                          "o:errorDetails": [{"detail": detail, "o:errorCode": code}]}, status, headers)


def fault_response(status: int, retry_after: int | None):
    if status == 429:
        return problem(429, "Too Many Requests", "CONCURRENCY_LIMIT_EXCEEDED",
                       "Concurrent request limit exceeded. Request blocked.",
                       {"Retry-After": str(retry_after)} if retry_after else None)
    if status == 504:
        return problem(504, "Gateway Timeout", "UNEXPECTED_ERROR", "The request timed out.")
    return problem(status, "Service Unavailable" if status == 503 else "Internal Server Error", "UNEXPECTED_ERROR",
                   "An unexpected error occurred. Error ID: sandbox")


def authenticate(state, request: Request, account_host: str):
    token = state.token(bearer_token(request), "netsuite")
    faults = state.faults["netsuite"]
    if (token is None or token.account != account_id(account_host) or token.revoked or state.token_expired(token)
            or faults.token_state in ("expired", "revoked")):
        return None, problem(401, "Unauthorized", "INVALID_LOGIN",
                             "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
                             "at Setup > Users/Roles > User Management > View Login Audit Trail.")
    return token, None


def _valid_state(value: str) -> bool:
    return 22 <= len(value) <= 1024 and all(33 <= ord(c) <= 126 for c in value)


def authorize(app, request: Request, account_host: str):
    cfg = app.state.config
    p = request.values
    if p.get("client_id") != cfg.netsuite_client_id:
        return error_page("NetSuite: invalid request", "The client_id does not match an integration record.")
    redirect_uri = p.get("redirect_uri", "")
    if not loopback_or_portal(redirect_uri, cfg.portal_base_url, cfg.redirect_uris) and not (
            redirect_uri.startswith("https://") and redirect_uri in cfg.redirect_uris):
        return error_page("NetSuite: invalid request", "The redirect_uri does not match the integration record.")
    state_value = p.get("state", "")

    def refuse(description: str):
        return redirect_with(redirect_uri, {"error": "invalid_request", "error_description": description,
                                            "state": state_value or None})

    scopes = p.get("scope", "").split()
    if p.get("response_type") != "code":
        return refuse("response_type must be code")
    if not scopes or not set(scopes) <= SCOPES:
        return refuse("invalid scope")
    if not _valid_state(state_value):
        return refuse("state must be 22 to 1024 printable ASCII characters")
    if p.get("code_challenge_method") != "S256" or not p.get("code_challenge"):
        return refuse("PKCE with code_challenge_method S256 is required")
    if request.method == "GET":
        hidden = {k: p.get(k, "") for k in ("response_type", "client_id", "redirect_uri", "scope", "state",
                                             "code_challenge", "code_challenge_method")}
        return consent_page("NetSuite", "ShelfOps", account_id(account_host), scopes, request.path, hidden)
    if p.get("decision") != "allow":
        return redirect_with(redirect_uri, {"error": "access_denied",
                                            "error_description": "The user denied the request.",
                                            "state": state_value})
    grant = Grant("netsuite", account_id(account_host), cfg.netsuite_client_id, redirect_uri, scopes,
                  app.state.now() + CODE_SECONDS, p["code_challenge"], "S256")
    code = app.state.issue_code(grant)
    return redirect_with(redirect_uri, {"state": state_value, "code": code, "role": "3", "entity": "-5",
                                        "company": account_id(account_host)})


def _client(request: Request, cfg) -> tuple[str | None, bool]:
    """(client_id, confidential) from Basic auth or, for public clients, the body; None when it fails."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None, True
        ok = client_id == cfg.netsuite_client_id and hmac.compare_digest(secret, cfg.netsuite_client_secret)
        return (client_id if ok else None), True
    return (cfg.netsuite_client_id if request.form.get("client_id") == cfg.netsuite_client_id else None), False


def _jwt(state, account: str, kind: str, lifetime: int, scopes: list[str]) -> str:
    now = int(state.now())
    claims = {"iss": "https://system.netsuite.com", "sub": "-5;3", "aud": [state.config.netsuite_client_id, account],
              "scope": scopes, "iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4()), "tok": kind}
    key = hashlib.sha256(f"{state.config.seed}:netsuite-jwt".encode()).hexdigest()
    return jwt.encode(claims, key, algorithm="HS256")


def token(app, request: Request, account_host: str):
    state = app.state
    grant_type = request.form.get("grant_type", "")
    state.counters.count_token_call("netsuite", grant_type or "?")
    if grant_type == "client_credentials":  # M2M: the signed assertion authenticates the client (m2m.py)
        from .m2m import client_credentials

        return client_credentials(app, request, account_id(account_host))
    client_id, confidential = _client(request, state.config)
    if client_id is None:
        return json_response({"error": "invalid_client"}, 401)
    account = account_id(account_host)
    invalid = json_response({"error": "invalid_grant"}, 400)
    with state.lock:
        if grant_type == "authorization_code":
            grant = state.grants.get(request.form.get("code", ""))
            if grant is None or grant.provider != "netsuite" or grant.account != account or grant.used \
                    or grant.expires_at <= state.now() or request.form.get("redirect_uri") != grant.redirect_uri:
                return invalid
            verifier = request.form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            grant.used = True  # a wrong verifier burns the code too
            if not hmac.compare_digest(challenge, grant.code_challenge):
                return invalid
            return json_response(_issue(state, account, grant.scopes, confidential, with_refresh=True))
        if grant_type == "refresh_token":
            value = request.form.get("refresh_token", "")
            refresh = state.token(value, "netsuite", kind="refresh")
            if refresh is None or refresh.account != account or refresh.revoked or state.token_expired(refresh):
                return invalid
            if not confidential:
                refresh.revoked = True  # public clients: single use, rotates
            return json_response(_issue(state, account, refresh.scopes, confidential, with_refresh=not confidential))
    return json_response({"error": "unsupported_grant_type"}, 400)


def _issue(state, account: str, scopes: list[str], confidential: bool, with_refresh: bool) -> dict:
    access = _jwt(state, account, "access", ACCESS_SECONDS, scopes)
    state.issue_token("netsuite", account, state.config.netsuite_client_id, "access", ACCESS_SECONDS,
                      scopes=scopes, value=access)
    answer = {"access_token": access, "expires_in": str(ACCESS_SECONDS), "token_type": "bearer"}
    if with_refresh:
        lifetime = REFRESH_SECONDS if confidential else PUBLIC_REFRESH_SECONDS
        refresh = _jwt(state, account, "refresh", lifetime, scopes)
        state.issue_token("netsuite", account, state.config.netsuite_client_id, "refresh", lifetime, scopes=scopes,
                          value=refresh)
        answer["refresh_token"] = refresh
    return answer


def revoke(app, request: Request, account_host: str):
    client_id, _ = _client(request, app.state.config)
    if client_id is None:
        return json_response({"error": "invalid_client"}, 401)
    value = request.form.get("token", "")
    app.state.revoke(lambda t: t.provider == "netsuite" and app.state.tokens.get(value) is t)
    return json_response({}, 200)


ROUTES = [
    Route("/netsuite/<account_host>/app/app/login/oauth2/authorize.nl", authorize, ("GET", "POST"),
          provider="netsuite", faults=False),
    Route("/netsuite/<account_host>/suitetalk/services/rest/auth/oauth2/v1/token", token, ("POST",),
          provider="netsuite"),
    Route("/netsuite/<account_host>/suitetalk/services/rest/auth/oauth2/v1/revoke", revoke, ("POST",),
          provider="netsuite"),
]

