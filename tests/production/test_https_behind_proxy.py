"""Behind the TLS-terminating proxy, with the settings production mode really produces (settings.py executed
under a complete production environment): HTTPS redirect and HSTS, Secure cookies, CSRF-valid logins, `https`
API links, health probes that answer any Host over plain HTTP, and no sandbox."""

from __future__ import annotations

import runpy
import subprocess
import sys

import pytest
from django.test import Client

from inventory.models import ApiToken, Store

from .env import ROOT, complete_environment

HOST = "portal.shelfops.example"
SECURITY_SETTINGS = (
    "SHELFOPS_ENV", "ALLOWED_HOSTS", "BASE_URL", "MIDDLEWARE", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "CSRF_TRUSTED_ORIGINS",
)


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory):
    """settings.py's own values under a complete production environment (not a hand-written copy)."""
    env = complete_environment(tmp_path_factory.mktemp("prod"))
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        namespace = runpy.run_path(str(ROOT / "shelfops" / "settings.py"))
    return namespace


@pytest.fixture
def production(settings, production_settings):
    for name in SECURITY_SETTINGS:
        setattr(settings, name, production_settings[name])
    return settings


def https_client(**kwargs) -> Client:
    """What nginx forwards: the public Host and X-Forwarded-Proto: https."""
    return Client(HTTP_HOST=HOST, headers={"X-Forwarded-Proto": "https"}, **kwargs)


def test_production_settings_are_the_https_ones(production_settings):
    assert production_settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SESSION_COOKIE_SECURE"] and production_settings["CSRF_COOKIE_SECURE"]
    assert "sandbox" not in production_settings["INSTALLED_APPS"]
    assert production_settings["CSRF_TRUSTED_ORIGINS"] == [f"https://{HOST}"]


@pytest.mark.django_db
def test_plain_http_through_the_public_host_is_redirected_to_https(production):
    response = Client(HTTP_HOST=HOST).get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}/accounts/login/"


@pytest.mark.django_db
def test_https_answers_carry_hsts(production):
    response = https_client().get("/accounts/login/")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
def test_a_merchant_logs_in_through_the_proxy_with_csrf_enforced_and_secure_cookies(production, merchant_user):
    client = https_client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    assert page.cookies["csrftoken"]["secure"]
    response = client.post(
        "/accounts/login/",
        {"username": "acme-merchant", "password": "pw-acme-merchant-1",
         "csrfmiddlewaretoken": page.cookies["csrftoken"].value},
        headers={"Origin": f"https://{HOST}", "Referer": f"https://{HOST}/accounts/login/"},
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/portal/"
    assert response.cookies["sessionid"]["secure"] and response.cookies["sessionid"]["httponly"]
    assert client.get("/portal/").status_code == 200


@pytest.mark.django_db
def test_a_cross_site_login_post_is_still_refused(production, merchant_user):
    client = https_client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"username": "acme-merchant", "password": "pw-acme-merchant-1",
         "csrfmiddlewaretoken": page.cookies["csrftoken"].value},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_api_next_links_are_https_behind_the_proxy(production, retailer):
    for i in range(3):
        Store.objects.create(retailer=retailer, name=f"store {i}", code=f"S{i}")
    _, key = ApiToken.issue(retailer, "forecasting")
    response = https_client().get("/api/v1/stores/?page_size=1", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 200, response.content
    assert response.json()["next"].startswith(f"https://{HOST}/api/v1/stores/?")


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "web:8000", "10.0.3.7", "not a host!", ""])
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_answer_any_host_over_plain_http(production, host, path):
    client = Client(HTTP_HOST=host) if host else Client()
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"
    assert "Location" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "evil.example"])
def test_other_paths_still_refuse_an_unknown_host(production, host):
    assert Client(HTTP_HOST=host).get("/accounts/login/", headers={"X-Forwarded-Proto": "https"}).status_code == 400


def test_the_sandbox_is_neither_installed_nor_importable_as_an_app_in_production(tmp_path):
    env = complete_environment(tmp_path)
    code = (
        "import sys, django; django.setup();"
        "from django.apps import apps; from django.urls import resolve, Resolver404;"
        "from django.core.management import get_commands;"
        "import shelfops.urls;"
        "print(apps.is_installed('sandbox'), 'runsandbox' in get_commands(),"
        " any(m == 'sandbox' or m.startswith('sandbox.') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False"]


@pytest.mark.django_db
def test_a_provider_without_credentials_is_not_offered(settings, client, merchant_user):
    from integrations.providers import all_providers

    left_out, *offered = [p for p in all_providers() if p.oauth() is not None]
    for credential in left_out.credentials():
        setattr(settings, credential, "")
    client.force_login(merchant_user)
    page = client.get("/portal/").content.decode()
    assert f"/integrations/{left_out.key}/connect/" not in page
    for provider in offered:
        assert f"/integrations/{provider.key}/connect/" in page
    assert client.get(f"/integrations/{left_out.key}/connect/").status_code == 404
