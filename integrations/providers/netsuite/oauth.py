"""NetSuite OAuth 2.0 authorization code grant (provider-facts 3.2): the merchant gives the account id, the
authorize page is on the account's app host and the token endpoint on its SuiteTalk host; PKCE S256 (``plain``
is unsupported), form-encoded token calls with ``Authorization: Basic base64(client_id:client_secret)``,
``expires_in`` as a string, 60-minute access tokens and (confidential client) 7-day refresh tokens that are not
renewed by refreshing: after them the merchant must authorize again."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

from integrations.oauth.base import OAuthFlow, TokenSet
from integrations.oauth.errors import OAuthFlowError

from .provider import account_host
from .suiteql import SUITEQL_PATH

ACCOUNT_ID = re.compile(r"^[0-9]{3,12}(_(SB|RP)[0-9]{0,3})?$", re.IGNORECASE)
REFRESH_TOKEN_LIFETIME = timedelta(days=7)


def clean_account(raw: str) -> str:
    account = (raw or "").strip().upper().replace("-", "_")
    if not ACCOUNT_ID.fullmatch(account):
        raise OAuthFlowError(
            "bad_account", "That is not a NetSuite account id.",
            advice="Enter the account id from Setup > Company > Company Information, like 1234567 or 1234567_SB1.")
    return account


class NetSuiteOAuth(OAuthFlow):
    settings_prefix = "NETSUITE"
    use_pkce = True  # required in practice: NetSuite dropped "plain" in 2020.2, S256 only
    token_body = "form"
    token_path = "/services/rest/auth/oauth2/v1/token"
    revoke_path = "/services/rest/auth/oauth2/v1/revoke"
    refresh_ahead = timedelta(minutes=15)  # 60-minute access tokens

    def clean_connect_input(self, params) -> dict:
        return {"account": clean_account(params.get("account", ""))}

    def account_hint(self, extra):
        return extra.get("account")

    def authorize_endpoint(self, extra):
        return f"{self.provider.app_base_url(extra['account'])}/app/login/oauth2/authorize.nl"

    def verify_callback(self, params, session) -> None:
        # NetSuite reports the account the user actually logged into as ``company``; it must be the one asked for.
        company = params.get("company")
        if company and account_host(company) != account_host(session.extra.get("account", "")):
            raise OAuthFlowError("account_mismatch", "NetSuite answered for a different account than the one you "
                                 "entered.", advice="Check the account id and connect again.")

    def token_base_url(self, account):
        return settings.NETSUITE_API_URL_TEMPLATE.format(account_host=account_host(account)).rstrip("/")

    def client_auth_headers(self):
        pair = f"{self.client_id()}:{self.client_secret()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    def exchange_fields(self, session, code):
        # The client authenticates with the Basic header: no client_id or secret in the body.
        return self.code_request(code, redirect_uri=session.redirect_uri, code_verifier=session.code_verifier,
                                 include_client_id=False)

    def refresh(self, connection) -> TokenSet:
        # Client-credentials (M2M) connections have no refresh token: a new token comes from a new signed
        # assertion (m2m.py), under the same lock and failure accounting as a refresh.
        if connection.auth_mode == connection.AuthMode.CLIENT_CREDENTIALS:
            from .m2m import obtain_token

            return obtain_token(self, connection)
        return super().refresh(connection)

    def refresh_fields(self, connection):
        return self.refresh_request(connection.refresh_token)

    def parse_tokens(self, payload, now) -> TokenSet:
        tokens = super().parse_tokens(payload, now)
        if tokens.refresh_token:
            tokens.refresh_token_expires_at = refresh_token_expiry(tokens.refresh_token, now)
        return tokens

    def revoke(self, connection) -> bool:
        # RFC 7009 revocation of the refresh token ends the whole grant.
        token = connection.refresh_token or connection.access_token
        self.post(self.token_base_url(connection.external_account_id), self.revoke_path, {"token": token},
                  account_key=connection.external_account_id)
        return True

    def test_connection(self, connection) -> str:
        from integrations.http import client_for

        response = client_for(connection).post("/services/rest/query/v1/suiteql?limit=1",
                                               json={"q": "SELECT id FROM location"},
                                               headers={"Prefer": "transient"})
        total = (response.json() or {}).get("totalResults")
        return f"NetSuite answered: {total if total is not None else '?'} location(s)."

    def account_name(self, connection) -> str | None:
        # Oracle documents that the Company Information page and the root subsidiary (the one without a parent)
        # share their fields, so the root subsidiary's name is the company name. An account without OneWorld has
        # one subsidiary row; an account whose role cannot read subsidiaries answers an error, and the id stays.
        from integrations.http import client_for

        response = client_for(connection).post(
            f"{SUITEQL_PATH}?limit=1", headers={"Prefer": "transient"}, retries=1,
            json={"q": "SELECT id, name FROM subsidiary WHERE parent IS NULL AND iselimination = 'F' ORDER BY id"})
        items = (response.json() or {}).get("items") or []
        return (items[0].get("name") or None) if items else None

    def problem_for_dead_grant(self) -> str:
        return "NetSuite access has expired (NetSuite asks for a new authorization every 7 days): reconnect."


def refresh_token_expiry(refresh_token: str, now: datetime) -> datetime:
    """The refresh token is a JWT whose ``exp`` says when it dies; read it (no signature check: it is only used
    to warn ahead of time), else assume the 7-day default."""
    try:
        claims = jwt.decode(refresh_token, options={"verify_signature": False})
        return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return now + REFRESH_TOKEN_LIFETIME
