import pytest

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


__all__ = ["make_connection", "make_schedules"]
