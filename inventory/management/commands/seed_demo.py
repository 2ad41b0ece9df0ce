"""Demo tenants for a fresh portal: two retailers with a merchant login and an API token each, and one staff
superuser. Passwords and keys are random, printed, and written to var/demo.json. Idempotent: a second run
finds everything in place (checked against var/demo.json) and changes nothing."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.text import slugify

from inventory.models import ApiToken, MerchantUser, Retailer

RETAILERS = [("Demo Retail", "demo"), ("Other Retail", "other")]
STAFF_USERNAME = "staff"
TOKEN_NAME = "demo token"


def _password() -> str:
    return secrets.token_urlsafe(12)


class Command(BaseCommand):
    help = "Create demo retailers, merchant logins, API tokens and a staff superuser (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the logins.")

    def handle(self, *args, quiet=False, **options):
        path = settings.VAR_DIR / "demo.json"
        previous = json.loads(path.read_text()) if path.exists() else {}
        with transaction.atomic():
            data = {"staff": self._staff(previous.get("staff", {})), "retailers": []}
            known = {r["name"]: r for r in previous.get("retailers", [])}
            for name, username in RETAILERS:
                data["retailers"].append(self._retailer(name, username, known.get(name, {})))
        if data != previous:
            path.write_text(json.dumps(data, indent=2))
            path.chmod(0o600)
        if not quiet:
            self._print(data, path)

    def _user(self, username: str, remembered: dict, **flags):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        password = remembered.get("password")
        if user is not None and password and user.check_password(password):
            return user, password
        password = _password()
        if user is None:
            user = User(username=username, **flags)
        for key, value in flags.items():
            setattr(user, key, value)
        user.set_password(password)
        user.save()
        return user, password

    def _staff(self, remembered: dict) -> dict:
        _, password = self._user(STAFF_USERNAME, remembered, is_staff=True, is_superuser=True)
        return {"username": STAFF_USERNAME, "password": password}

    def _retailer(self, name: str, username: str, remembered: dict) -> dict:
        retailer, _ = Retailer.objects.get_or_create(name=name, defaults={"slug": slugify(name)})
        user, password = self._user(username, remembered)
        MerchantUser.objects.get_or_create(user=user, defaults={"retailer": retailer})
        key = remembered.get("api_token")
        if not key or not ApiToken.objects.active().filter(retailer=retailer, key_hash=ApiToken.hash_key(key)).exists():
            _, key = ApiToken.issue(retailer, TOKEN_NAME)
        return {"name": name, "username": username, "password": password, "api_token": key}

    def _print(self, data: dict, path) -> None:
        out = self.stdout
        out.write(self.style.MIGRATE_HEADING(f"Demo logins (also in {path}):"))
        out.write(f"  staff (admin at /admin/): {data['staff']['username']} / {data['staff']['password']}")
        for r in data["retailers"]:
            out.write(f"  {r['name']} (portal at /portal/): {r['username']} / {r['password']}")
            out.write(f"      API token: {r['api_token']}")
