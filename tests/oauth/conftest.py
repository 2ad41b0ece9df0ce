"""Fixtures for the connect flows: logged-in merchants, provider settings, connections with tokens."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import Connection


@pytest.fixture(autouse=True)
def oauth_base_url(settings):
    settings.BASE_URL = "https://portal.example.test"
    settings.SQUARE_BASE_URL = "https://square.example.test"
    settings.SHOPIFY_BASE_URL_TEMPLATE = "https://{shop}"
    settings.NETSUITE_APP_URL_TEMPLATE = "https://{account_host}.app.netsuite.example.test"
    settings.NETSUITE_API_URL_TEMPLATE = "https://{account_host}.suitetalk.netsuite.example.test"
    return settings


@pytest.fixture
def merchant_client(merchant_user):
    client = Client()
    client.force_login(merchant_user)
    return client


@pytest.fixture
def other_merchant_client(other_merchant_user):
    client = Client()
    client.force_login(other_merchant_user)
    return client


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def make_connection(retailer, provider="square", account="MERCHANT-1", *, expires_in=timedelta(hours=1),
                    access="at-old-0001", refresh="rt-old-0001", status=Connection.Status.ACTIVE, **extra):
    return Connection.objects.create(
        retailer=retailer, provider=provider, external_account_id=account, status=status,
        access_token=access, refresh_token=refresh,
        token_expires_at=None if expires_in is None else timezone.now() + expires_in, **extra,
    )


def rfc7636_s256(verifier: str) -> str:
    """RFC 7636 section 4.2 written out here, independent of the portal's PKCE (oauthlib's), to judge it."""
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")
