"""Production mode fails closed: each missing or unsafe setting stops manage.py (and every other process) with a
non-zero exit naming the setting; a complete configuration passes Django's deploy checks at WARNING level."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .env import ROOT, complete_environment, manage


def without(env, *names):
    return {k: v for k, v in env.items() if k not in names}


def assert_refused(result, setting: str, words: str = ""):
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "refuses to start in production mode" in output or setting in output, output
    refusal = output[output.find("ImproperlyConfigured"):]
    assert f"{setting}" in refusal, output
    if words:
        assert words in refusal, output


@pytest.fixture
def complete(tmp_path):
    return complete_environment(tmp_path)


def test_complete_configuration_passes_check_deploy_at_warning_level(complete):
    result = manage(complete, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_nothing_is_generated_into_var_in_production(complete, tmp_path):
    assert manage(without(complete, "FERNET_KEYS"), "check").returncode != 0
    assert manage(complete, "check").returncode == 0
    var = tmp_path / "var"
    assert not (var / "secret.key").exists() and not (var / "fernet.key").exists()


@pytest.mark.parametrize("setting", [
    "SECRET_KEY", "FERNET_KEYS", "BASE_URL", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "METRICS_TOKEN",
])
def test_a_missing_setting_is_refused_by_name(complete, setting):
    assert_refused(manage(without(complete, setting), "check"), setting, "not set")


@pytest.mark.parametrize(("setting", "value", "words"), [
    ("BASE_URL", "http://portal.shelfops.example", "must start with https://"),
    ("SECRET_KEY", "django-insecure-short", "too weak"),
    ("SECRET_KEY", "a" * 80, "too weak"),
    ("FERNET_KEYS", "not-a-fernet-key", "not a Fernet key"),
    ("ALLOWED_HOSTS", "*", "accepts any Host"),
    ("DATABASE_URL", "sqlite:////tmp/shelfops.sqlite3", "SQLite"),
    ("METRICS_TOKEN", "short", "too short"),
    ("DEBUG", "true", "must be off"),
])
def test_an_unsafe_setting_is_refused_by_name(complete, setting, value, words):
    assert_refused(manage({**complete, setting: value}, "check"), setting, words)


def test_the_refusal_never_echoes_a_secret_value(complete):
    weak = "django-insecure-do-not-print-me"
    result = manage({**complete, "SECRET_KEY": weak, "FERNET_KEYS": "do-not-print-this-key"}, "check")
    assert result.returncode != 0
    assert weak not in result.stderr + result.stdout
    assert "do-not-print-this-key" not in result.stderr + result.stdout


def test_a_provider_pointed_at_the_local_sandbox_is_refused(complete):
    from integrations.providers import all_providers

    for provider in all_providers():
        setting = provider.setting_name("ENVIRONMENT")
        assert_refused(manage({**complete, setting: "local"}, "check"), setting, "'local'")


def test_a_provider_using_the_sandbox_builtin_credentials_is_refused(complete):
    """The local defaults of each provider's credentials are the sandbox's, which anyone can read here."""
    from django.conf import settings

    from integrations.providers import all_providers

    for provider in all_providers():
        for name, local_value in provider.credentials().items():  # the test settings are local mode
            assert local_value in provider.sandbox_credentials, name
            assert_refused(manage({**complete, name: local_value}, "check"), name, "built-in credential")
        assert getattr(settings, provider.setting_name("ENVIRONMENT")) == "local"


def test_a_provider_without_credentials_is_left_out_not_refused(complete):
    from integrations.providers import all_providers

    provider = all_providers()[0]
    env = without(complete, *(provider.setting_name(s) for s in provider.credential_settings))
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unknown_mode_is_refused(complete):
    assert_refused(manage({**complete, "SHELFOPS_ENV": "prod"}, "check"), "SHELFOPS_ENV")


@pytest.mark.parametrize("command", [
    ["migrate", "--check"], ["shell", "-c", "print('started')"], ["ensure_periodic_tasks"],
])
def test_every_command_stops_not_only_check(complete, command):
    result = manage(without(complete, "FERNET_KEYS"), *command)
    assert_refused(result, "FERNET_KEYS")
    assert "started" not in result.stdout


def test_the_wsgi_application_and_celery_app_refuse_too(complete):
    env = without(complete, "FERNET_KEYS")
    for code in ("import shelfops.wsgi", "from shelfops.celery import app; app.loader.import_default_modules()"):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=120)
        assert_refused(result, "FERNET_KEYS")


def test_the_provider_rule_also_stops_processes_started_without_manage_py(complete):
    from integrations.providers import all_providers

    setting = all_providers()[0].setting_name("ENVIRONMENT")
    result = subprocess.run([sys.executable, "-c", "import shelfops.wsgi"], cwd=ROOT,
                            env={**complete, setting: "local"}, capture_output=True, text=True, timeout=120)
    assert_refused(result, setting)
