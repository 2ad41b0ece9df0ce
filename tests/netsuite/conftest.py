"""Fixtures for the NetSuite area: a NetSuite connection on a test host, an RSA key with a self-signed
certificate for client-credentials (M2M) connections."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone

from integrations.models import Connection

API_HOST = "https://{account_host}.suitetalk.netsuite.example.test"


@pytest.fixture
def netsuite_hosts(settings):
    settings.NETSUITE_API_URL_TEMPLATE = API_HOST
    settings.NETSUITE_APP_URL_TEMPLATE = "https://{account_host}.app.netsuite.example.test"
    settings.HTTP_BACKOFF_BASE_SECONDS = 0.0
    settings.HTTP_BACKOFF_MAX_SECONDS = 0.0
    return settings


@pytest.fixture
def netsuite_connection(retailer, netsuite_hosts):
    def make(**fields) -> Connection:
        values = {
            "retailer": retailer, "provider": "netsuite",
            "external_account_id": f"{uuid.uuid4().int % 10**7}_SB1", "status": Connection.Status.ACTIVE,
            "access_token": "ns-secret-access-token-01", "refresh_token": "ns-secret-refresh-token-01",
            "token_expires_at": timezone.now() + timedelta(minutes=50),
        }
        values.update(fields)
        return Connection.objects.create(**values)

    return make


class CertificatePair:
    """An RSA key and a self-signed certificate, as an admin uploads them to NetSuite (certificate) and to the
    portal (private key)."""

    def __init__(self, bits: int = 2048):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shelfops-m2m")])
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365)).sign(self.key, hashes.SHA256())
        )

    @property
    def private_pem(self) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="session")
def certificate_pair():
    return CertificatePair()
