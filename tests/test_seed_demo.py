import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from inventory.models import ApiToken, MerchantUser, Retailer


@pytest.fixture
def var_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _snapshot():
    User = get_user_model()
    return (
        sorted(User.objects.values_list("username", "password", "is_staff", "is_superuser")),
        sorted(Retailer.objects.values_list("name", "slug")),
        sorted(MerchantUser.objects.values_list("user__username", "retailer__name")),
        sorted(ApiToken.objects.values_list("retailer__name", "key_hash", "revoked_at")),
    )


@pytest.mark.django_db
def test_seed_demo_creates_logins_tokens_and_writes_demo_json(var_dir, capsys):
    call_command("seed_demo")
    data = json.loads((var_dir / "demo.json").read_text())
    assert set(data) == {"staff", "retailers"}
    assert [r["name"] for r in data["retailers"]] == ["Demo Retail", "Other Retail"]
    assert all(set(r) == {"name", "username", "password", "api_token"} for r in data["retailers"])

    client = Client()
    assert client.login(username=data["staff"]["username"], password=data["staff"]["password"])
    assert client.get("/admin/").status_code == 200

    for entry in data["retailers"]:
        assert Client().login(username=entry["username"], password=entry["password"])
        user = get_user_model().objects.get(username=entry["username"])
        assert user.merchant.retailer.name == entry["name"] and not user.is_staff
        token = ApiToken.authenticate(entry["api_token"])
        assert token is not None and token.retailer.name == entry["name"]
    printed = capsys.readouterr().out
    assert data["staff"]["password"] in printed


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(var_dir):
    call_command("seed_demo", quiet=True)
    first_json = (var_dir / "demo.json").read_text()
    first = _snapshot()
    call_command("seed_demo", quiet=True)
    assert _snapshot() == first
    assert (var_dir / "demo.json").read_text() == first_json


@pytest.mark.django_db
def test_passwords_are_random(var_dir, tmp_path_factory, settings):
    call_command("seed_demo", quiet=True)
    one = json.loads((var_dir / "demo.json").read_text())
    passwords = {one["staff"]["password"], *(r["password"] for r in one["retailers"])}
    assert len(passwords) == 3 and all(len(p) >= 12 for p in passwords)
