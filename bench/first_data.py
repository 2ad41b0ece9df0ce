"""First data after consent (issue 15): for each provider, the time from the OAuth callback reaching the portal to
the first stock level and the first sale being visible through the REST API.

The real path, nothing in-process: the provider sandbox, the portal's web server (``manage.py runserver``) and a
Celery worker (threads pool) on PostgreSQL and Redis. A scripted merchant logs in, starts the connect, "clicks"
Allow on the sandbox's consent page, and follows the redirect to the portal's callback; the clock starts when
that callback request is sent. An API client then polls ``/api/v1/inventory-levels/`` and ``/api/v1/transactions/``
with the retailer's token until each returns a row. Target: under 5 s per provider.

    .venv/bin/python bench/first_data.py [--providers square,shopify,netsuite] [--port 22500] [--no-write]

Runs in a database of its own (DATABASE_URL's name + ``_first_data``), emptied before each provider.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
import threading
import time
from urllib.parse import urljoin, urlparse

from _setup import ROOT, setup, write_result

DB_SUFFIX = "_first_data"
CONNECT = {"square": "", "shopify": "?shop=bench-shop.myshopify.com", "netsuite": "?account=1234567_SB1"}
USER, PASSWORD = "bench-merchant", "bench-first-data-pw-1"


def own_database() -> None:
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    name = url.path.lstrip("/")
    if name and not name.endswith(DB_SUFFIX):
        os.environ["DATABASE_URL"] = url._replace(path=f"/{name}{DB_SUFFIX}").geturl()


def provider_env(sandbox_url: str, portal_url: str) -> dict[str, str]:
    return {
        "SANDBOX_URL": sandbox_url, "BASE_URL": portal_url,
        "SQUARE_BASE_URL": f"{sandbox_url}/square",
        "SHOPIFY_BASE_URL_TEMPLATE": f"{sandbox_url}/shopify/{{shop}}",
        "NETSUITE_APP_URL_TEMPLATE": f"{sandbox_url}/netsuite/{{account_host}}/app",
        "NETSUITE_API_URL_TEMPLATE": f"{sandbox_url}/netsuite/{{account_host}}/suitetalk",
        "SHOPIFY_BULK_POLL_SECONDS": "0.2", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
    }


def start(cmd: list[str], env: dict[str, str], ready: str, timeout: float = 60.0) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    seen = []
    assert proc.stdout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if ready in line:
            # Keep reading its output, or the process blocks once the pipe's buffer is full.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc
    proc.kill()
    raise SystemExit(f"{cmd[2:5]} did not start:\n{''.join(seen[-30:])}")


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def reset_data() -> str:
    """Empty the connection and inventory tables, (re)create the merchant; returns a fresh API key."""
    from django.contrib.auth import get_user_model
    from django.db import connection as db

    from integrations.models import SyncRun
    from inventory.models import ApiToken, MerchantUser, Retailer

    # The previous provider's initial syncs may still be running: let them end before emptying their tables.
    deadline = time.monotonic() + 300
    while SyncRun.objects.filter(status__in=["queued", "running"]).exists() and time.monotonic() < deadline:
        time.sleep(0.5)

    tables = ["integrations_connection", "integrations_oauthsession", "integrations_syncrun",
              "integrations_apicalllog", "inventory_transaction", "inventory_inventorylevel",
              "inventory_productmapping", "inventory_storemapping", "inventory_product", "inventory_store",
              "inventory_apitoken", "inventory_merchantuser", "inventory_retailer"]
    with db.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    retailer = Retailer.objects.create(name="Bench Retail", slug="bench")
    user, _ = get_user_model().objects.get_or_create(username=USER)
    user.set_password(PASSWORD)
    user.save()
    MerchantUser.objects.create(user=user, retailer=retailer)
    return ApiToken.issue(retailer, name="bench")[1]


def consent(session, portal: str, provider: str):
    """Log in, start the connect, Allow at the sandbox; returns the callback URL the provider redirects to."""
    login = session.get(f"{portal}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    session.post(f"{portal}/accounts/login/", data={"csrfmiddlewaretoken": token, "username": USER,
                                                    "password": PASSWORD, "next": "/portal/"})
    answer = session.get(f"{portal}/integrations/{provider}/connect/{CONNECT[provider]}", allow_redirects=False)
    authorize_url = answer.headers["Location"]
    page = session.get(authorize_url)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    fields = {html.unescape(k): html.unescape(v)
              for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    allowed = session.post(urljoin(authorize_url, action), data={**fields, "decision": "allow"},
                           allow_redirects=False)
    if allowed.status_code not in (302, 303):
        raise SystemExit(f"{provider}: consent answered {allowed.status_code}: {allowed.text[:300]}")
    return allowed.headers["Location"]


def first_row(api, url: str, deadline: float) -> float | None:
    while time.monotonic() < deadline:
        answer = api.get(url)
        if answer.status_code == 200 and answer.json().get("results"):
            return time.monotonic()
        time.sleep(0.05)
    return None


def measure(portal: str, provider: str, key: str, timeout: float) -> dict:
    import requests

    browser, api = requests.Session(), requests.Session()
    api.headers["Authorization"] = f"Token {key}"
    callback = consent(browser, portal, provider)
    started = time.monotonic()
    answer = browser.get(callback, allow_redirects=False)
    callback_s = time.monotonic() - started
    if answer.status_code != 302 or "/portal/connections/" not in answer.headers.get("Location", ""):
        raise SystemExit(f"{provider}: callback answered {answer.status_code} {answer.headers.get('Location')}")
    deadline = started + timeout
    stock = first_row(api, f"{portal}/api/v1/inventory-levels/?page_size=1", deadline)
    sale = first_row(api, f"{portal}/api/v1/transactions/?page_size=1", deadline)
    result = {"callback_s": round(callback_s, 3),
              "first_stock_level_s": round(stock - started, 3) if stock else None,
              "first_sale_s": round(sale - started, 3) if sale else None}
    print(f"{provider:9s} callback {result['callback_s']:.2f}s  first stock level "
          f"{result['first_stock_level_s'] or 'timeout'}s  first sale {result['first_sale_s'] or 'timeout'}s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", default="square,shopify,netsuite")
    parser.add_argument("--port", type=int, default=22500, help="the portal's port (the sandbox takes a free one)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results")
    args = parser.parse_args()
    own_database()
    setup()
    from sandbox.server import SandboxServer
    from sandbox.state import SandboxConfig

    portal = f"http://127.0.0.1:{args.port}"
    sandbox = SandboxServer(SandboxConfig.from_django_settings(duplicate_webhook_probability=0.0,
                                                               portal_base_url="http://127.0.0.1:9")).start()
    env = provider_env(sandbox.url, portal)
    os.environ.update(env)
    web = worker = None
    results: dict[str, dict] = {}
    try:
        web = start([sys.executable, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"], env,
                    "Quit the server")
        worker = start([sys.executable, "-m", "celery", "-A", "shelfops", "worker", "-P", "threads", "-c", "4",
                        "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat",
                        "-n", f"bench-first-data-{os.getpid()}@%h"], {**env, "LOG_LEVEL": "INFO"}, " ready.")
        for provider in [p for p in args.providers.split(",") if p]:
            key = reset_data()
            results[provider] = measure(portal, provider, key, args.timeout)
    finally:
        stop(worker)
        stop(web)
        sandbox.stop()
    if not args.no_write:
        write_result("first_data", {"target_s": 5.0, "providers": results})


if __name__ == "__main__":
    main()
