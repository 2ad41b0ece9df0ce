import pytest
from django.test import Client

from integrations.webhooks.inbox import clear_connection_cache


@pytest.fixture
def portal(settings, sandbox_server, merchant_user):
    """A logged-in merchant's browser (Django's client) with the sandbox standing in for the providers. Only the
    redirect URI's host matters (the flows follow the redirects themselves)."""
    settings.BASE_URL = "http://127.0.0.1:23020"
    sandbox_server.set_webhook_target("http://127.0.0.1:9")
    clear_connection_cache()  # the inbox caches account -> connection per process; tests reuse ids
    client = Client()
    client.force_login(merchant_user)
    yield client
    clear_connection_cache()
