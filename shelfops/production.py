"""Production mode (``SHELFOPS_ENV=production``) fails closed.

Two layers use the rules below: the settings guard at the end of ``settings.py`` (runs in every process before
anything else, so gunicorn, Celery workers, beat and every ``manage.py`` command stop at import), and the system
checks in ``shelfops/checks.py`` (the same rules on the live settings, plus the provider rules that need the
registry). Messages name the setting and never echo a secret's value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

MODES = ("local", "production")
# Django's own deploy check (security.W009) asks for 50 characters with some variety.
MIN_SECRET_KEY_LENGTH = 50
# The metrics bearer is compared as a password; a short one is guessable.
MIN_METRICS_TOKEN_LENGTH = 32


@dataclass(frozen=True)
class Problem:
    setting: str
    message: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"


def is_production(settings_obj: Any) -> bool:
    return getattr(settings_obj, "SHELFOPS_ENV", "local") == "production"


def _fernet_key_is_valid(key: str) -> bool:
    from cryptography.fernet import Fernet

    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True


def configuration_problems(get: Callable[[str, Any], Any]) -> list[Problem]:
    """Every missing or unsafe core setting. ``get(name, default)`` reads one setting (from the settings
    module's namespace during import, or from ``django.conf.settings`` in a system check)."""
    problems: list[Problem] = []

    secret_key = get("SECRET_KEY", "") or ""
    if not secret_key:
        problems.append(Problem("SECRET_KEY", "not set; production never generates one per container."))
    elif (len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 5
          or secret_key.startswith("django-insecure-")):
        problems.append(Problem(
            "SECRET_KEY", f"too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."))

    fernet_keys = [k for k in (get("FERNET_KEYS", []) or []) if k]
    if not fernet_keys:
        problems.append(Problem(
            "FERNET_KEYS", "not set; web, workers and beat must share the same keys (a key generated per "
            "container could not read the tokens another container saved). Generate one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'."))
    else:
        bad = [str(i + 1) for i, key in enumerate(fernet_keys) if not _fernet_key_is_valid(key)]
        if bad:
            problems.append(Problem(
                "FERNET_KEYS", f"entry {', '.join(bad)} is not a Fernet key (32 url-safe base64-encoded bytes)."))

    base_url = get("BASE_URL", "") or ""
    if not base_url:
        problems.append(Problem("BASE_URL", "not set; it must be the portal's public https:// URL."))
    elif not base_url.startswith("https://"):
        problems.append(Problem(
            "BASE_URL", f"must start with https:// (got {base_url!r}): providers send OAuth codes and webhooks "
            "to it."))

    allowed_hosts = [h for h in (get("ALLOWED_HOSTS", []) or []) if h]
    if not allowed_hosts:
        problems.append(Problem("ALLOWED_HOSTS", "not set; list the portal's public host name(s)."))
    elif "*" in allowed_hosts:
        problems.append(Problem("ALLOWED_HOSTS", "'*' accepts any Host header; list the public host name(s)."))

    databases = get("DATABASES", {}) or {}
    engine = databases.get("default", {}).get("ENGINE", "")
    if not engine or engine.endswith("sqlite3"):
        problems.append(Problem(
            "DATABASE_URL", "not set (or SQLite): production runs on PostgreSQL shared by every container."))

    if not get("REDIS_URL", ""):
        problems.append(Problem(
            "REDIS_URL", "not set: the broker, cache, shared rate budgets and locks need Redis in production."))

    metrics_token = get("METRICS_TOKEN", "") or ""
    if len(metrics_token) < MIN_METRICS_TOKEN_LENGTH:
        problems.append(Problem(
            "METRICS_TOKEN", ("not set" if not metrics_token else "too short")
            + f": /metrics needs a bearer token of at least {MIN_METRICS_TOKEN_LENGTH} random characters."))

    if get("DEBUG", False):
        problems.append(Problem("DEBUG", "must be off in production (it shows settings and stack traces)."))
    return problems


def origins(base_url: str) -> list[str]:
    """The scheme://host[:port] of an https BASE_URL, for CSRF_TRUSTED_ORIGINS (empty otherwise)."""
    parts = urlsplit(base_url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme == "https" and parts.netloc else []


def refusal(problems: list[Problem]) -> ImproperlyConfigured:
    lines = "\n".join(f"  - {p}" for p in problems)
    return ImproperlyConfigured(
        f"ShelfOps refuses to start in production mode (SHELFOPS_ENV=production):\n{lines}\n"
        "See README 'Deployment' and .env.example.")


def guard_settings(namespace: dict[str, Any]) -> None:
    """The settings guard: called at the end of settings.py; raises before any process can start."""
    mode = namespace.get("SHELFOPS_ENV", "local")
    if mode not in MODES:
        raise ImproperlyConfigured(f"SHELFOPS_ENV must be one of {', '.join(MODES)} (got {mode!r}).")
    if mode != "production":
        return
    problems = configuration_problems(namespace.get)
    if problems:
        raise refusal(problems)
