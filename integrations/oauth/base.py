"""The shared OAuth 2.0 authorization-code flow. A provider's ``oauth.py`` subclasses ``OAuthFlow``, sets the
configuration attributes and overrides only the hooks where the provider differs (Square's ISO ``expires_at``,
Shopify's callback HMAC and shop domain, NetSuite's per-account hosts and Basic client auth).

The protocol mechanics come from oauthlib's public API (``WebApplicationClient``): the authorization URL with
its PKCE S256 challenge, the token request bodies, and the validation of the token answer (an ``error`` in it,
a missing ``access_token``, a malformed ``expires_in``). Every provider call still goes through the resilient
client (``integrations.http.app_client`` for token and revoke calls, ``client_for(connection)`` for API calls);
this module never touches HTTP itself, and requests-oauthlib's own session is not used for the same reason.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from oauthlib.oauth2 import InsecureTransportError, OAuth2Error, WebApplicationClient

from .errors import OAuthFlowError, TokenRefreshError

if TYPE_CHECKING:
    from integrations.models import Connection, OAuthSession
    from integrations.providers.base import Provider

logger = logging.getLogger("integrations.oauth")

# Error codes from a token endpoint that mean the grant itself is dead: retrying cannot help, the merchant must
# authorize again. OAuth's ``invalid_grant`` plus Square's codes for a revoked or unknown token.
DEAD_GRANT_CODES = {"invalid_grant", "unauthorized_client", "UNAUTHORIZED", "ACCESS_TOKEN_REVOKED",
                    "ACCESS_TOKEN_EXPIRED", "INVALID_GRANT"}


@dataclass
class TokenSet:
    """What a token endpoint granted. Secrets are kept out of ``repr`` so a traceback or log never shows them."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    scopes: list[str] | None = None
    account_id: str | None = None


@dataclass
class TokenEndpointError(Exception):
    """A token/revoke endpoint refused the call (or the client gave up). No request data is kept on it."""

    status: int | None
    codes: list[str]
    detail: str = ""

    def __str__(self) -> str:
        # Status and codes only: a provider's free-text detail could echo request data, so it is not logged.
        return f"HTTP {self.status} {','.join(self.codes)}".strip()

    @property
    def dead_grant(self) -> bool:
        return bool(DEAD_GRANT_CODES.intersection(self.codes))


def _error_codes(payload: Any) -> tuple[list[str], str]:
    """OAuth ``{"error": ..}``, Square ``{"errors": [{"code": ..}]}`` or ``{"type": ..}``, NetSuite
    ``{"o:errorDetails": [{"o:errorCode": ..}]}``."""
    if not isinstance(payload, dict):
        return [], ""
    codes: list[str] = []
    if isinstance(payload.get("error"), str):
        codes.append(payload["error"])
    for item in payload.get("errors") or []:
        if isinstance(item, dict) and item.get("code"):
            codes.append(str(item["code"]))
    for item in payload.get("o:errorDetails") or []:
        if isinstance(item, dict) and item.get("o:errorCode"):
            codes.append(str(item["o:errorCode"]))
    if isinstance(payload.get("type"), str) and not codes:
        codes.append(payload["type"])
    detail = payload.get("error_description") or payload.get("message") or ""
    return codes, str(detail)[:200]


def _typed(fields: dict, extra: dict) -> dict:
    """oauthlib builds a form body (all strings); a JSON token body keeps the caller's own values (``1``, not
    ``"1"``) for the parameters oauthlib included."""
    return {**fields, **{k: v for k, v in extra.items() if k in fields}}


def seconds_from_now(value: Any, now: datetime) -> datetime | None:
    try:
        return now + timedelta(seconds=int(value))  # NetSuite sends expires_in as the string "3600"
    except (TypeError, ValueError):
        return None


class OAuthFlow(ABC):
    # --- configuration a provider sets ---
    settings_prefix = ""  # reads <PREFIX>_CLIENT_ID, _CLIENT_SECRET, _SCOPES
    use_pkce = False
    scope_delimiter = " "
    token_body = "json"  # "json" or "form"
    # The periodic task refreshes a token this long before it expires.
    refresh_ahead = timedelta(minutes=15)

    def __init__(self, provider: Provider):
        self.provider = provider

    # --- settings, read at call time so tests can point a provider elsewhere ---
    def client_id(self) -> str:
        return getattr(settings, f"{self.settings_prefix}_CLIENT_ID")

    def client_secret(self) -> str:
        return getattr(settings, f"{self.settings_prefix}_CLIENT_SECRET")

    def scopes(self) -> list[str]:
        return list(getattr(settings, f"{self.settings_prefix}_SCOPES"))

    def redirect_uri(self) -> str:
        return f"{settings.BASE_URL}/integrations/{self.provider.key}/callback/"

    # --- connect ---
    def clean_connect_input(self, params) -> dict:
        """Validate what the connect page asked for (shop, account id); the result is kept on the OAuthSession."""
        return {}

    def account_hint(self, extra: dict) -> str | None:
        """The external account known before the exchange (Shopify shop, NetSuite account), if any."""
        return None

    @abstractmethod
    def authorize_endpoint(self, extra: dict) -> str:
        ...

    def authorize_params(self, session: OAuthSession, code_challenge: str | None) -> dict:
        params = {
            "client_id": self.client_id(),
            "response_type": "code",
            "scope": self.scope_delimiter.join(self.scopes()),
            "redirect_uri": session.redirect_uri,
            "state": session.state,
        }
        if code_challenge:
            params.update(code_challenge=code_challenge, code_challenge_method="S256")
        return params

    def authorize_url(self, session: OAuthSession, code_challenge: str | None) -> str:
        """The consent page URL, built by oauthlib from ``authorize_params`` (the standard parameters go to its
        named arguments, anything else a provider adds is passed through)."""
        params = dict(self.authorize_params(session, code_challenge))
        params.pop("response_type", None)  # oauthlib always sends response_type=code for this grant
        client = WebApplicationClient(params.pop("client_id", self.client_id()))
        standard = {name: params.pop(name, None) for name in ("redirect_uri", "scope", "state", "code_challenge")}
        method = params.pop("code_challenge_method", "S256")
        try:
            return client.prepare_request_uri(self.authorize_endpoint(session.extra), code_challenge_method=method,
                                              **standard, **params)
        except InsecureTransportError:
            # oauthlib refuses plain http; only the local sandbox is (allowed outside production mode).
            raise OAuthFlowError("insecure_endpoint", f"{self.provider.name}'s consent page is not on https, so "
                                 "ShelfOps will not send you there.",
                                 advice="Ask ShelfOps staff to check the provider's configured host.") from None

    def verify_callback(self, params, session: OAuthSession) -> None:
        """Provider checks on the callback before the code is exchanged (Shopify: hmac, timestamp, shop)."""
        return None  # optional hook: most providers need no check beyond state

    def denial(self, params) -> OAuthFlowError | None:
        error = params.get("error")
        if not error:
            return None
        if error == "access_denied":
            return OAuthFlowError("denied", f"You declined access on {self.provider.name}. Nothing was connected.",
                                  advice="If that was a mistake, click Connect again and choose Allow.")
        return OAuthFlowError("provider_error", f"{self.provider.name} reported a problem ({error[:60]}) and did "
                              "not grant access. Nothing was connected.")

    # --- token endpoint ---
    @abstractmethod
    def token_base_url(self, account: str | None) -> str:
        ...

    token_path = "/oauth/token"

    def client_auth_headers(self) -> dict[str, str]:
        return {}

    def oauth_client(self) -> WebApplicationClient:
        return WebApplicationClient(self.client_id())

    def exchange_fields(self, session: OAuthSession, code: str) -> dict:
        """The code exchange body (RFC 6749 4.1.3, RFC 7636 4.5). A PKCE exchange proves itself with the
        verifier instead of the client secret."""
        return self.code_request(code, redirect_uri=session.redirect_uri, code_verifier=session.code_verifier,
                                 client_secret=None if session.code_verifier else self.client_secret())

    def refresh_fields(self, connection: Connection) -> dict:
        return self.refresh_request(connection.refresh_token, client_id=self.client_id(),
                                    client_secret=self.client_secret())

    def code_request(self, code: str, *, redirect_uri: str | None = None, code_verifier: str | None = None,
                     include_client_id: bool = True, **extra) -> dict:
        """An authorization-code token request body from oauthlib, as fields (the client then sends them as JSON
        or form, ``token_body``). ``extra`` adds parameters (None values are left out)."""
        body = self.oauth_client().prepare_request_body(code=code, redirect_uri=redirect_uri,
                                                        code_verifier=code_verifier or None,
                                                        include_client_id=include_client_id, **extra)
        return _typed(dict(parse_qsl(body)), extra)

    def refresh_request(self, refresh_token: str, **extra) -> dict:
        """A refresh-grant body from oauthlib (RFC 6749 section 6); pass ``client_id`` / ``client_secret`` when
        the provider wants them in the body."""
        body = self.oauth_client().prepare_refresh_body(refresh_token=refresh_token, **extra)
        return _typed(dict(parse_qsl(body)), extra)

    def validated_token(self, payload: Any) -> dict:
        """The token answer checked by oauthlib (an ``error`` member, a missing ``access_token``, an
        ``expires_in`` that is not a number): raises ``TokenEndpointError`` with the answer's error codes."""
        try:
            return self.oauth_client().parse_request_body_response(
                json.dumps(payload if isinstance(payload, dict) else {}))
        except OAuth2Error as exc:
            codes, _ = _error_codes(payload)
            detail = ("token response without access_token" if exc.error == "missing_token"
                      else f"token response refused: {exc.error}")
            raise TokenEndpointError(None, codes or [exc.error], detail) from None
        except ValueError as exc:  # oauthlib: "expires_in must be an int"
            raise TokenEndpointError(None, ["invalid_token_response"], str(exc)[:200]) from None

    def exchange(self, session: OAuthSession, code: str) -> TokenSet:
        account = self.account_hint(session.extra)
        payload = self.post(self.token_base_url(account), self.token_path, self.exchange_fields(session, code),
                            account_key=account, retries=1)
        tokens = self.parse_tokens(payload, timezone.now())
        tokens.account_id = self.account_from_exchange(payload, session)
        if tokens.scopes is None:
            tokens.scopes = self.granted_scopes(tokens, session)
        return tokens

    def refresh(self, connection: Connection) -> TokenSet:
        if not connection.refresh_token:
            raise TokenRefreshError("no refresh token stored", permanent=True)
        try:
            payload = self.post(self.token_base_url(connection.external_account_id), self.token_path,
                                self.refresh_fields(connection), account_key=connection.external_account_id,
                                retries=1)
        except TokenEndpointError as exc:
            permanent = exc.dead_grant or exc.status == 401
            raise TokenRefreshError(str(exc), permanent=permanent) from None
        try:
            return self.parse_tokens(payload, timezone.now())
        except TokenEndpointError as exc:
            # A 200 without a usable token: count it as a (transient) refresh failure like any other, so the
            # caller records it instead of crashing on an exception it does not expect.
            raise TokenRefreshError(f"{exc.detail} {','.join(exc.codes)}".strip(), permanent=exc.dead_grant) from None

    def parse_tokens(self, payload: dict, now: datetime) -> TokenSet:
        token = self.validated_token(payload)
        if not token.get("access_token"):  # present but empty: as useless as missing
            codes, _ = _error_codes(payload)
            raise TokenEndpointError(None, codes, "token response without access_token")
        # Scopes from the answer as sent: some providers separate them with commas, which oauthlib's
        # space-separated list would keep as one.
        scope = payload.get("scope")
        return TokenSet(
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token") or None,
            expires_at=self.parse_expiry(payload, now),
            refresh_token_expires_at=seconds_from_now(payload.get("refresh_token_expires_in"), now),
            scopes=[s for s in scope.replace(",", " ").split() if s] if isinstance(scope, str) else None,
        )

    def parse_expiry(self, payload: dict, now: datetime) -> datetime | None:
        if payload.get("expires_in") is not None:
            return seconds_from_now(payload["expires_in"], now)
        if payload.get("expires_at"):
            return parse_datetime(str(payload["expires_at"]))
        return None

    def account_from_exchange(self, payload: dict, session: OAuthSession) -> str:
        account = self.account_hint(session.extra)
        if not account:
            raise OAuthFlowError("no_account", f"{self.provider.name} did not say which account was connected.")
        return account

    def granted_scopes(self, tokens: TokenSet, session: OAuthSession) -> list[str]:
        return self.scopes()

    def post(self, base_url: str, path: str, fields: dict, *, account_key: str | None = None,
             headers: dict | None = None, retries: int | None = None) -> dict:
        """POST to a token/revoke endpoint through the resilient client; errors come back as TokenEndpointError.
        Code exchanges and refreshes pass ``retries=1``: a code is single-use and a refresh token may rotate, so
        blindly resending after a lost answer would burn the grant."""
        from integrations.http import app_client
        from integrations.http.errors import ProviderError

        all_headers = {**self.client_auth_headers(), **(headers or {})}
        body = {"json": fields} if self.token_body == "json" else {"data": fields}
        try:
            response = app_client(self.provider.key, base_url, account_key=account_key).request(
                "POST", path, headers=all_headers, retries=retries, **body
            )
        except ProviderError as exc:
            raise TokenEndpointError(getattr(exc, "status", None), list(getattr(exc, "codes", None) or []),
                                     str(getattr(exc, "detail", "") or "")[:200]) from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code >= 400:
            codes, detail = _error_codes(payload)
            raise TokenEndpointError(response.status_code, codes, detail)
        return payload if isinstance(payload, dict) else {}

    # --- after connect, revoke, health ---
    def after_connect(self, connection: Connection) -> None:
        """Provider set-up that needs the new tokens (Shopify webhook subscriptions)."""
        return None  # optional hook

    def account_name(self, connection: Connection) -> str | None:
        """The account's readable name (business, shop or company name), fetched once at connect so merchants
        see "Blue Bottle Coffee" rather than an id. None when the provider offers none."""
        return None

    def revoke(self, connection: Connection) -> bool:
        """Revoke the grant at the provider. Returns False when the provider offers no way to."""
        return False

    @abstractmethod
    def test_connection(self, connection: Connection) -> str:
        """A cheap authenticated call; returns a short description of what answered."""

    def problem_for_dead_grant(self) -> str:
        return f"{self.provider.name} access was revoked or has expired: reconnect."
