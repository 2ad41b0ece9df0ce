import pytest

from tests.sync.e2e_helpers import start_worker


@pytest.fixture
def shipbob_sandbox(sandbox_server, settings):
    settings.SHIPBOB_API_URL = f"{sandbox_server.url}/shipbob"
    settings.SHIPBOB_AUTH_URL = f"{sandbox_server.url}/shipbob/auth"
    return sandbox_server


@pytest.fixture
def portal_sandbox(live_server, settings, shipbob_sandbox):
    """The sandbox with the portal (live_server) as its redirect and webhook target."""
    settings.BASE_URL = live_server.url
    shipbob_sandbox.set_webhook_target(live_server.url)
    return shipbob_sandbox


@pytest.fixture
def shipbob_worker(shipbob_sandbox):
    worker = start_worker(shipbob_sandbox)
    yield worker
    worker.stop()
