"""A complete production environment for subprocesses, and a runner for manage.py under a crafted environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

# Every setting production mode reads, so the parent's environment (CI's, a developer's) cannot leak in.
PRODUCTION_SETTINGS = (
    "SHELFOPS_ENV", "SECRET_KEY", "FERNET_KEYS", "BASE_URL", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL",
    "METRICS_TOKEN", "DEBUG", "CELERY_BROKER_URL", "CSRF_TRUSTED_ORIGINS",
)


def provider_settings(prefix: str, suffixes: tuple[str, ...]) -> dict[str, str]:
    return {f"{prefix}_{suffix}": f"real-{prefix.lower()}-{suffix.lower()}-9f2c41d07b" for suffix in suffixes}


def complete_environment(tmp_path: Path) -> dict[str, str]:
    from integrations.providers import all_providers

    # DJANGO_ALLOW_ASYNC_UNSAFE: set in this test process by the browser fixture (Playwright); no deployment has it.
    env = {k: v for k, v in os.environ.items()
           if k not in PRODUCTION_SETTINGS and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
           and not k.endswith(("_ENVIRONMENT", "_CLIENT_ID", "_CLIENT_SECRET"))}
    env.update(
        SHELFOPS_ENV="production",
        SECRET_KEY="k3y-" + "x7Qp9Lm2Vb8Nc4Zr6Ts1Wd5Hf3Jg0Ka" * 2,
        FERNET_KEYS=f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        BASE_URL="https://portal.shelfops.example",
        ALLOWED_HOSTS="portal.shelfops.example",
        # check does not connect: these only have to be PostgreSQL / Redis URLs.
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://shelfops@127.0.0.1:5432/shelfops"),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        METRICS_TOKEN="m3trics-" + "Zt8Kq2Lp5Vn9Xc3B" * 3,
        VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="shelfops.settings",
    )
    for provider in all_providers():
        env[provider.setting_name("ENVIRONMENT")] = "production"
        env.update(provider_settings(provider.settings_prefix or provider.key.upper(), provider.credential_settings))
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
