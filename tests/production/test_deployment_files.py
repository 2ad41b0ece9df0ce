"""The deployment files say what production needs: .env.example names every setting, docker-compose runs every
app process in production mode from .env with health checks and separate worker queues, and nothing in it
depends on a file inside one container."""

from __future__ import annotations

import ast
import re
from datetime import timedelta

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from integrations.providers import all_providers

from .env import ROOT

APP_SERVICES = ("migrate", "web", "worker-webhooks", "worker-syncs", "beat")


def settings_read_from_environment() -> set[str]:
    """Every NAME in env("NAME") / env.str("NAME", ...) in settings.py and the provider packages' settings.py
    (which settings.py reads through the registry)."""
    names = set()
    provider_modules = sorted((ROOT / "integrations" / "providers").glob("*/settings.py"))
    for path in [ROOT / "shelfops" / "settings.py", *provider_modules]:
        names |= _env_names(ast.parse(path.read_text()))
    assert {"SQUARE_CLIENT_ID", "SHOPIFY_CLIENT_ID", "NETSUITE_CLIENT_ID", "SECRET_KEY"} <= names  # both kinds seen
    return names


def _env_names(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env")
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def env_example() -> tuple[set[str], set[str]]:
    """(names set on a line of their own, names only mentioned in a comment line)."""
    active, mentioned = set(), set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^\s*(#\s*)?([A-Z][A-Z0-9_]+)=", line)
        if match:
            (mentioned if match.group(1) else active).add(match.group(2))
    return active, mentioned


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_env_example_names_every_setting_the_settings_read():
    active, mentioned = env_example()
    missing = sorted(settings_read_from_environment() - active - mentioned)
    assert not missing, f"add these to .env.example: {', '.join(missing)}"


def test_env_example_asks_for_every_required_setting_and_every_provider_credential():
    active, _ = env_example()
    required = {"SECRET_KEY", "FERNET_KEYS", "BASE_URL", "ALLOWED_HOSTS", "METRICS_TOKEN", "POSTGRES_PASSWORD",
                "REDIS_PASSWORD"}
    for provider in all_providers():
        required.add(provider.setting_name("ENVIRONMENT"))
        required.update(provider.setting_name(s) for s in provider.credential_settings)
    assert required <= active, sorted(required - active)


def test_every_app_process_runs_in_production_mode_from_env(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["env_file"] == ".env", name
        assert service["environment"]["SHELFOPS_ENV"] == "production", name
        # DATABASE_URL / REDIS_URL come from .env's passwords, never from a default baked in here.
        assert ":?" in service["environment"]["DATABASE_URL"] and ":?" in service["environment"]["REDIS_URL"]


def test_webhook_and_sync_workers_consume_separate_queues(compose):
    webhooks = compose["services"]["worker-webhooks"]["command"]
    syncs = compose["services"]["worker-syncs"]["command"]
    assert "-Q webhooks " in webhooks
    assert "-Q syncs,maintenance" in syncs and "webhooks" not in syncs.split("-Q", 1)[1].split()[0]


def test_health_checks_that_work_behind_a_strict_allowed_hosts(compose):
    services = compose["services"]
    assert "http://127.0.0.1:8000/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "beat_health" in services["beat"]["healthcheck"]["test"]
    for worker in ("worker-webhooks", "worker-syncs"):
        assert "inspect ping" in " ".join(services[worker]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["proxy"]["healthcheck"]["test"])


def test_the_proxy_uses_the_repository_nginx_config(compose):
    proxy = compose["services"]["proxy"]
    template = next(v.split(":")[0] for v in proxy["volumes"] if "shelfops.conf.template" in v)
    config = (ROOT / template).read_text()
    # The client's X-Forwarded-Proto is never passed through: Django trusts this header.
    assert "proxy_set_header X-Forwarded-Proto https;" in config
    assert "$http_x_forwarded_proto" not in config
    assert "proxy_set_header Host $http_host;" in config
    for variable in re.findall(r"\$\{([A-Z_]+)\}", config):
        assert variable in proxy["environment"], variable


def test_no_app_container_depends_on_a_file_inside_another(compose):
    for name in APP_SERVICES:
        assert not compose["services"][name].get("volumes"), f"{name} mounts a volume"
    owners: dict[str, str] = {}
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source in compose.get("volumes", {}):
                assert source not in owners, f"{source} shared by {owners[source]} and {name}"
                owners[source] = name


@pytest.mark.django_db
def test_beat_health_reads_the_last_run_beat_recorded():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    call_command("ensure_periodic_tasks")
    with pytest.raises(CommandError, match="has not run"):
        call_command("beat_health")
    name, (task, every) = next(iter(settings.SHELFOPS_PERIODIC_TASKS.items()))
    PeriodicTask.objects.filter(name=name).update(last_run_at=timezone.now() - timedelta(seconds=1000))
    with pytest.raises(CommandError, match="stalled"):
        call_command("beat_health", "--max-age", "300")
    PeriodicTask.objects.filter(name=name).update(last_run_at=timezone.now() - timedelta(seconds=5))
    call_command("beat_health", "--max-age", "300")
    assert IntervalSchedule.objects.exists()
