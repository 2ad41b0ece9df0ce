import pytest

from .receiver import Receiver


@pytest.fixture
def receiver(sandbox_server):
    """Webhooks from the sandbox go here instead of the portal."""
    r = Receiver()
    sandbox_server.set_webhook_target(r.url)
    yield r
    r.close()
