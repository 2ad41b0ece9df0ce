"""Client-credentials (M2M) connections: the portal signs a PS256 assertion with the uploaded private key and
gets 60-minute tokens without a refresh token; the token endpoint here verifies the assertion against the
certificate, as NetSuite does."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.utils import timezone

from integrations.http.errors import ProviderAuthError
from integrations.models import Connection
from integrations.oauth.tokens import fresh_access_token
from integrations.providers.netsuite import m2m

from .conftest import CertificatePair

pytestmark = pytest.mark.django_db
CLIENT_ID = "shelfops-local-netsuite-client"


def token_endpoint(conn):
    host = conn.external_account_id.lower().replace("_", "-")
    return f"https://{host}.suitetalk.netsuite.example.test/services/rest/auth/oauth2/v1/token"


class FakeTokenEndpoint:
    """Verifies the client assertion against the registered certificate (signature, kid, iss, aud, lifetime)."""

    def __init__(self, url, certificate_id, pair):
        self.url, self.certificate_id, self.pair = url, certificate_id, pair
        self.claims: list[dict] = []
        self.headers: list[dict] = []

    def __call__(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        assert "Authorization" not in request.headers  # the assertion is the client authentication
        assert form["grant_type"] == "client_credentials"
        assert form["client_assertion_type"] == m2m.ASSERTION_TYPE
        header = jwt.get_unverified_header(form["client_assertion"])
        self.headers.append(header)
        if header.get("kid") != self.certificate_id:
            return 400, {}, json.dumps({"error": "invalid_client"})
        try:
            claims = jwt.decode(form["client_assertion"], self.pair.certificate.public_key(),
                                algorithms=["PS256", "ES256"], audience=self.url, issuer=CLIENT_ID)
        except jwt.PyJWTError:
            return 400, {}, json.dumps({"error": "invalid_client"})
        self.claims.append(claims)
        return 200, {}, json.dumps({"access_token": f"m2m-access-{len(self.claims)}", "expires_in": "3600",
                                    "token_type": "bearer"})


def m2m_connection(make, pair, certificate_id="cert-Ab12"):
    return make(auth_mode=Connection.AuthMode.CLIENT_CREDENTIALS, access_token=None, refresh_token=None,
                token_expires_at=None, private_key=pair.private_pem, certificate_id=certificate_id)


@responses.activate
def test_m2m_connection_gets_a_token_with_a_verified_ps256_assertion(netsuite_connection, certificate_pair):
    conn = m2m_connection(netsuite_connection, certificate_pair)
    endpoint = FakeTokenEndpoint(token_endpoint(conn), "cert-Ab12", certificate_pair)
    responses.add_callback(responses.POST, endpoint.url, callback=endpoint)

    assert fresh_access_token(conn) == "m2m-access-1"

    [header], [claims] = endpoint.headers, endpoint.claims
    assert header["alg"] == "PS256" and header["typ"] == "JWT" and header["kid"] == "cert-Ab12"
    assert claims["scope"] == ["rest_webservices"]
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    conn.refresh_from_db()
    assert conn.access_token == "m2m-access-1" and conn.refresh_token is None
    assert timedelta(minutes=59) < conn.token_expires_at - timezone.now() <= timedelta(minutes=60)


@responses.activate
def test_an_expiring_m2m_token_is_replaced_by_a_new_grant_not_a_refresh(netsuite_connection, certificate_pair):
    conn = m2m_connection(netsuite_connection, certificate_pair)
    conn.access_token, conn.token_expires_at = "m2m-old", timezone.now() + timedelta(minutes=2)
    conn.save()
    endpoint = FakeTokenEndpoint(token_endpoint(conn), "cert-Ab12", certificate_pair)
    responses.add_callback(responses.POST, endpoint.url, callback=endpoint)
    assert fresh_access_token(conn) == "m2m-access-1"
    assert len(endpoint.claims) == 1  # one client_credentials call (the callback refuses any other grant)


@responses.activate
def test_a_key_that_does_not_match_the_certificate_marks_the_connection_for_attention(netsuite_connection,
                                                                                       certificate_pair):
    conn = m2m_connection(netsuite_connection, CertificatePair())  # signed with some other key
    endpoint = FakeTokenEndpoint(token_endpoint(conn), "cert-Ab12", certificate_pair)
    responses.add_callback(responses.POST, endpoint.url, callback=endpoint)
    with pytest.raises(ProviderAuthError):
        fresh_access_token(conn)
    conn.refresh_from_db()
    assert conn.status == Connection.Status.NEEDS_RECONNECT
    assert "invalid_client" in conn.last_refresh_error
    assert "BEGIN" not in conn.last_refresh_error and "PRIVATE" not in conn.problem


def test_ec_keys_sign_es256_and_weak_or_garbled_keys_are_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    assert m2m.load_signing_key(pem)[1] == "ES256"
    with pytest.raises(m2m.PrivateKeyError, match="2048"):
        m2m.load_signing_key(CertificatePair(bits=1024).private_pem)
    with pytest.raises(m2m.PrivateKeyError, match="PEM"):
        m2m.load_signing_key("not a key")
