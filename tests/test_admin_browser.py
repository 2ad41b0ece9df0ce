"""Staff log into the admin with the login seed_demo prints, in a real browser."""

import json

import pytest
from django.core.management import call_command

from integrations.models import Connection
from inventory.models import Retailer


@pytest.mark.browser
def test_staff_logs_into_admin_with_the_seeded_login(page, live_server, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", quiet=True)
    staff = json.loads((tmp_path / "demo.json").read_text())["staff"]
    demo = Connection.objects.create(
        retailer=Retailer.objects.get(name="Demo Retail"), provider="square", external_account_id="ML-BROWSER",
        status="active",
        access_token="EAAA-browser-secret-token",
    )

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", staff["username"])
    page.fill("#id_password", staff["password"])
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "Site administration" in page.content()

    page.goto(f"{live_server.url}/admin/integrations/connection/{demo.pk}/change/")
    html = page.content()
    assert "ML-BROWSER" in html and "EAAA-browser-secret-token" not in html
    page.screenshot(path=str(tmp_path / "admin-connection.png"))
