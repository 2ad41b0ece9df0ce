"""The broker's transport and its options (shelfops/settings.py) apply to a Redis broker over TLS (``rediss://``)
too: the visibility timeout, socket timeouts and the transport that keeps a worker alive through a broker loss."""

import json
import os
import subprocess
import sys

import pytest

from tests.processes import ROOT

READ = ("import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CELERY_BROKER_TRANSPORT, s.CELERY_BROKER_TRANSPORT_OPTIONS]))")


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://:pw@redis.example:6380/0?ssl_cert_reqs=required"])
def test_redis_and_tls_redis_brokers_get_the_portals_transport_and_options(url):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(DJANGO_SETTINGS_MODULE="shelfops.settings", CELERY_BROKER_URL=url)
    out = subprocess.run([sys.executable, "-c", READ], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    transport, options = json.loads(out.stdout.strip().splitlines()[-1])
    assert transport == "shelfops.broker:Transport"
    assert options["visibility_timeout"] == 1800 and options["health_check_interval"] == 15
