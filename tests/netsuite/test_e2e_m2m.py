"""Client-credentials (M2M) end to end: staff upload the private key in admin, the sandbox holds the matching
certificate, the portal gets a token with a signed JWT the sandbox verifies, and SuiteQL answers with it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from integrations.admin.connection_form import ConnectionForm
from integrations.http import client_for
from integrations.http.errors import ProviderAuthError
from integrations.models import Connection
from integrations.oauth.tokens import fresh_access_token

from .conftest import CertificatePair

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
ACCOUNT = "5550001_SB1"


def admin_form(retailer, pem: str, **data):
    values = {"retailer": retailer.pk, "provider": "netsuite", "external_account_id": ACCOUNT, "status": "active",
              "auth_mode": Connection.AuthMode.CLIENT_CREDENTIALS, "certificate_id": "cert-7Qx", "settings": "{}",
              "refresh_failures": 0, **data}
    files = {"private_key_file": SimpleUploadedFile("key.pem", pem.encode())} if pem else {}
    return ConnectionForm(data=values, files=files)


def register(sandbox, pair, certificate_id="cert-7Qx"):
    from sandbox.netsuite.m2m import register_certificate

    register_certificate(sandbox.state, ACCOUNT, certificate_id, pair.certificate_pem)


def test_m2m_connection_gets_a_sandbox_verified_token_and_queries(sandbox_server, retailer, certificate_pair):
    register(sandbox_server, certificate_pair)
    form = admin_form(retailer, certificate_pair.private_pem)
    assert form.is_valid(), form.errors
    conn = form.save()
    assert conn.private_key.startswith("-----BEGIN PRIVATE KEY-----")  # decrypted on read, encrypted at rest

    token = fresh_access_token(conn)

    assert sandbox_server.token_calls("netsuite", "client_credentials") == 1
    conn.refresh_from_db()
    assert conn.access_token == token and conn.refresh_token is None and conn.status == Connection.Status.ACTIVE
    answer = client_for(conn).post("/services/rest/query/v1/suiteql?limit=5&offset=0",
                                   json={"q": "SELECT l.id, l.name FROM location l ORDER BY l.id"},
                                   headers={"Prefer": "transient"}).json()
    assert answer["count"] == answer["totalResults"] == sandbox_server.merchant("netsuite", ACCOUNT).sizes.locations


def test_a_key_the_certificate_does_not_match_is_refused_and_needs_staff(sandbox_server, retailer,
                                                                          certificate_pair):
    register(sandbox_server, certificate_pair)
    form = admin_form(retailer, CertificatePair().private_pem)
    assert form.is_valid(), form.errors  # a well-formed key: only NetSuite can tell it is the wrong one
    conn = form.save()
    with pytest.raises(ProviderAuthError):
        fresh_access_token(conn)
    conn.refresh_from_db()
    assert conn.status == Connection.Status.NEEDS_RECONNECT and conn.access_token is None
    assert "invalid_client" in conn.last_refresh_error


def test_the_admin_form_refuses_bad_keys_and_missing_certificate_ids(retailer, certificate_pair):
    assert "private_key_file" in admin_form(retailer, "-----BEGIN PRIVATE KEY-----\nnope\n").errors
    assert "private_key_file" in admin_form(retailer, "").errors
    assert "certificate_id" in admin_form(retailer, certificate_pair.private_pem, certificate_id="").errors
    assert "auth_mode" in admin_form(retailer, certificate_pair.private_pem, provider="square").errors


def test_the_admin_page_never_shows_the_private_key(retailer, certificate_pair):
    form = admin_form(retailer, certificate_pair.private_pem)
    assert form.is_valid(), form.errors
    conn = form.save()
    staff = get_user_model().objects.create_superuser("staff-m2m", password="pw-staff-m2m-1")
    client = Client()
    client.force_login(staff)
    page = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert "Upload private key" in page
    assert "BEGIN PRIVATE KEY" not in page and certificate_pair.private_pem.splitlines()[1] not in page
