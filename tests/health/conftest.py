import pytest

from sandbox.data import Sizes
from sandbox.server import SandboxServer
from sandbox.state import SandboxConfig
from tests.sandbox_fixtures import SandboxHandle
from tests.sync.conftest import make_connection, make_schedules


@pytest.fixture
def connection(retailer, merchant_user):
    merchant_user.email = "owner@acme.test"
    merchant_user.save()
    conn = make_connection(retailer, display_name="Acme Coffee")
    make_schedules(conn, due=False)
    return conn


@pytest.fixture(autouse=True)
def mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ADMINS = [("Ops", "ops@shelfops.test")]
    settings.BASE_URL = "https://portal.shelfops.test"


@pytest.fixture
def many_pages(settings):
    """Enough orders for a run of ~30 pages (1000 orders per Square page), so 15% faults really hit it."""
    config = SandboxConfig.from_django_settings(sizes=Sizes(products=30, locations=2, orders=30000),
                                                duplicate_webhook_probability=0.0, webhook_retry_scale=0.001)
    server = SandboxServer(config).start()
    handle = SandboxHandle(server)
    handle.set_webhook_target("http://127.0.0.1:9")
    settings.SQUARE_BASE_URL = f"{server.url}/square"
    yield handle
    server.stop()


__all__ = ["make_connection", "make_schedules"]
