"""NetSuite OAuth 2.0 client credentials (M2M) grant (provider-facts 3.2).

Staff map the integration + entity + role to an uploaded certificate in NetSuite ("OAuth 2.0 Client Credentials
(M2M) Setup"), then give the portal that certificate's private key (stored encrypted in
``Connection.private_key``) and its Certificate ID (``Connection.certificate_id``). For every token the portal
signs a short JWT assertion (PS256 for RSA keys, ES256 for EC keys; ``kid`` = certificate id, ``iss`` = client
id, ``aud`` = the token endpoint URL, ``scope``, ``iat``, ``exp`` <= 60 min) and posts it to the token endpoint.
The answer is a 60-minute access token with no refresh token, so "refreshing" such a connection means asking
for a new token with a new assertion (``NetSuiteOAuth.refresh`` sends M2M connections here).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.utils import timezone
from oauthlib.oauth2 import BackendApplicationClient

from integrations.oauth.base import TokenEndpointError, TokenSet
from integrations.oauth.errors import TokenRefreshError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# NetSuite accepts up to 60 minutes; the assertion is used once, right away, so keep it short.
ASSERTION_LIFETIME = timedelta(minutes=5)
# Codes that mean the M2M set-up itself is wrong (unknown certificate, revoked mapping): retrying cannot help.
PERMANENT_CODES = {"invalid_client", "unauthorized_client", "invalid_grant", "invalid_scope", "INVALID_LOGIN"}


class PrivateKeyError(ValueError):
    """The uploaded key cannot sign NetSuite assertions (not PEM, encrypted, or an unsupported key type)."""


def load_signing_key(pem: str):
    """The private key and the JWT algorithm NetSuite accepts for it."""
    try:
        key = load_pem_private_key(pem.strip().encode(), password=None)
    except TypeError:
        raise PrivateKeyError("the key is password-protected: upload it unencrypted (it is encrypted at rest)")
    except (ValueError, AttributeError):
        raise PrivateKeyError("not a PEM private key (expected -----BEGIN PRIVATE KEY-----)")
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise PrivateKeyError("RSA keys must have at least 2048 bits")
        return key, "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithms = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
        if key.curve.name in algorithms:
            return key, algorithms[key.curve.name]
    raise PrivateKeyError("NetSuite accepts RSA (PS256) or EC P-256/384/521 (ES256/384/512) keys")


def client_assertion(*, private_key_pem: str, certificate_id: str, client_id: str, token_url: str,
                     scopes: list[str], now: datetime) -> str:
    key, algorithm = load_signing_key(private_key_pem)
    issued = int(now.timestamp())
    claims = {
        "iss": client_id,
        "scope": scopes,
        "aud": token_url,
        "iat": issued,
        "exp": issued + int(ASSERTION_LIFETIME.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=algorithm, headers={"typ": "JWT", "kid": certificate_id})


def obtain_token(flow, connection) -> TokenSet:
    """A new access token for an M2M connection. Raises ``TokenRefreshError`` (permanent when the set-up is
    wrong) so ``integrations.oauth.tokens`` records the failure exactly as for a failed refresh."""
    if not connection.private_key or not connection.certificate_id:
        raise TokenRefreshError("client credentials connection without private key or certificate id",
                                permanent=True)
    base_url = flow.token_base_url(connection.external_account_id)
    now = timezone.now()
    try:
        assertion = client_assertion(
            private_key_pem=connection.private_key, certificate_id=connection.certificate_id,
            client_id=flow.client_id(), token_url=f"{base_url}{flow.token_path}", scopes=flow.scopes(), now=now,
        )
    except PrivateKeyError as exc:
        raise TokenRefreshError(f"private key unusable: {exc}", permanent=True) from None
    # RFC 7523 client authentication by assertion; the body comes from oauthlib's client-credentials client.
    fields = dict(parse_qsl(BackendApplicationClient(flow.client_id()).prepare_request_body(
        include_client_id=False, client_assertion_type=ASSERTION_TYPE, client_assertion=assertion)))
    try:
        payload = post_token_request(flow, base_url, fields, account_key=connection.external_account_id)
        tokens = flow.parse_tokens(payload, now)
    except TokenEndpointError as exc:
        permanent = bool(PERMANENT_CODES.intersection(exc.codes)) or exc.status in (400, 401)
        raise TokenRefreshError(f"client credentials grant refused: {exc}", permanent=permanent) from None
    tokens.refresh_token = None  # M2M grants never carry one; the next token comes from a new assertion
    return tokens


def post_token_request(flow, base_url: str, fields: dict, *, account_key: str) -> dict:
    """The token call through the resilient client (no Basic client secret: the signed assertion is the client
    authentication). Refusals come back as ``TokenEndpointError`` with NetSuite's or OAuth's error codes."""
    from integrations.http import app_client
    from integrations.http.errors import ProviderError

    try:
        response = app_client(flow.provider.key, base_url, account_key=account_key).post(flow.token_path,
                                                                                         data=fields)
        payload = response.json()
    except ProviderError as exc:
        raise TokenEndpointError(exc.status, list(exc.codes), "") from None
    except ValueError:
        raise TokenEndpointError(None, [], "token answer is not JSON") from None
    return payload if isinstance(payload, dict) else {}
