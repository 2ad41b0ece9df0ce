"""Settings for bench/webhooks.py's gunicorn: the portal's own settings plus the comparison views' URLs."""

from shelfops.settings import *  # noqa: F403

ROOT_URLCONF = "bench._webhooks_urls"
