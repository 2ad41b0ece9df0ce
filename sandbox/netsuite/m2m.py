"""NetSuite OAuth 2.0 client credentials (M2M) grant (provider-facts 3.2), beside the code grant in ``oauth.py``.

In NetSuite an admin uploads a certificate (public key) in "OAuth 2.0 Client Credentials (M2M) Setup", mapped to
the integration record, an entity and a role, and gets a Certificate ID. Here a test (or a person, through
``POST /_sandbox/netsuite/<account_host>/certificates``) registers the certificate PEM under that id.

The token endpoint then takes ``grant_type=client_credentials``, ``client_assertion_type=urn:ietf:params:oauth:
client-assertion-type:jwt-bearer`` and ``client_assertion=<JWT>``, and checks the JWT as NetSuite does: header
``kid`` = a certificate registered for the account, ``alg`` PS256/384/512 or ES256/384/512 (RS256 refused), the
signature against the certificate's public key, ``iss`` = the integration's client id, ``aud`` = this token
endpoint's URL, ``scope`` within the integration's scopes, ``iat`` not in the future and ``exp`` at most 60 minutes
after it and not passed. The answer is a 60-minute access token and no refresh token.
"""

from __future__ import annotations

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from werkzeug.wrappers import Request

from ..http import Route, json_response, read_json

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
MAX_ASSERTION_SECONDS = 3600
CLOCK_SKEW_SECONDS = 60


def certificates(state) -> dict:
    """(account id, certificate id) -> public key; lives on the state so ``reset`` can clear it."""
    with state.lock:
        if not hasattr(state, "netsuite_certificates"):
            state.netsuite_certificates = {}
        return state.netsuite_certificates


def public_key_of(pem: str):
    text = pem.strip().encode()
    if b"BEGIN CERTIFICATE" in text:
        return x509.load_pem_x509_certificate(text).public_key()
    return load_pem_public_key(text)


def register_certificate(state, account: str, certificate_id: str, pem: str) -> None:
    certificates(state)[(account.upper(), certificate_id)] = public_key_of(pem)


def refuse(description: str, error: str = "invalid_client", status: int = 400):
    # NetSuite answers the token endpoint with OAuth's error shape; the description never echoes the assertion.
    return json_response({"error": error, "error_description": description}, status)


def _scopes(value) -> list[str]:
    if isinstance(value, list):
        return [str(s) for s in value]
    return [s for s in str(value or "").replace(",", " ").split() if s]


def client_credentials(app, request: Request, account: str):
    """The token endpoint's ``grant_type=client_credentials`` branch (``oauth.token`` dispatches here)."""
    from .oauth import SCOPES, _issue

    state = app.state
    form = request.form
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        return refuse("client_assertion_type must be jwt-bearer with a client_assertion", "invalid_request")
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return refuse("the client assertion is not a JWT", "invalid_request")
    if header.get("alg") not in ALGORITHMS:
        return refuse(f"unsupported JWT algorithm {str(header.get('alg'))[:10]!r}: use PS256/384/512 or ES256/384/512")
    key = certificates(state).get((account.upper(), str(header.get("kid") or "")))
    if key is None:
        return refuse("no certificate with this kid is mapped to the integration in this account")
    token_url = request.base_url
    try:
        claims = jwt.decode(assertion, key, algorithms=ALGORITHMS, audience=token_url,
                            issuer=state.config.netsuite_client_id,
                            options={"verify_exp": False, "verify_iat": False, "require": ["iat", "exp", "iss"]})
    except jwt.InvalidAudienceError:
        return refuse("aud must be this token endpoint's URL")
    except jwt.InvalidIssuerError:
        return refuse("iss does not match the integration record's client id")
    except jwt.PyJWTError:
        return refuse("the client assertion's signature does not verify against the certificate")
    now = state.now()
    iat, exp = int(claims["iat"]), int(claims["exp"])
    if iat > now + CLOCK_SKEW_SECONDS or exp <= now or exp - iat > MAX_ASSERTION_SECONDS:
        return refuse("iat/exp out of range: exp must be in the future and at most 60 minutes after iat",
                      "invalid_grant")
    scopes = _scopes(claims.get("scope"))
    if not scopes or not set(scopes) <= SCOPES:
        return refuse("scope must be within restlets, rest_webservices, suite_analytics", "invalid_scope")
    return json_response(_issue(state, account, scopes, confidential=True, with_refresh=False))


def register(app, request: Request, account_host: str):
    """``POST /_sandbox/netsuite/<account_host>/certificates`` ``{"certificate_id", "certificate": PEM}``."""
    from .oauth import account_id

    body = read_json(request) or {}
    if not body.get("certificate_id") or not body.get("certificate"):
        return json_response({"error": "certificate_id and certificate (PEM) are required"}, 400)
    try:
        register_certificate(app.state, account_id(account_host), str(body["certificate_id"]), body["certificate"])
    except (ValueError, TypeError) as exc:
        return json_response({"error": f"not a PEM certificate or public key: {exc}"}, 400)
    return json_response({"certificate_id": body["certificate_id"], "account": account_id(account_host)}, 201)


ROUTES = [Route("/_sandbox/netsuite/<account_host>/certificates", register, ("POST",))]
