"""Every log line written during an OAuth connect, a sync and webhooks, in the production (JSON) format, holds
none of the tokens, secrets and OAuth query values used; lines carry request, run and event ids; gunicorn's
access log (a real gunicorn) records no ``code``, ``state`` or ``hmac`` value."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client

from integrations.console.logs import build_formatter
from integrations.models import Connection, SyncRun
from integrations.sync import engine

from .flows import connect_square, inventory_counts, square_webhook, sync_every_stream

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def captured():
    """Every logger's output, DEBUG and up, through the production formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(json=True))
    root = logging.getLogger()
    separate = [logging.getLogger(name) for name, lg in logging.root.manager.loggerDict.items()
                if isinstance(lg, logging.Logger) and not lg.propagate]
    saved = root.level
    root.setLevel(logging.DEBUG)
    for lg in [root, *separate]:
        lg.addHandler(handler)
    try:
        yield stream
    finally:
        for lg in [root, *separate]:
            lg.removeHandler(handler)
        root.setLevel(saved)


@pytest.mark.e2e
def test_no_secret_in_any_log_line_of_connect_sync_and_webhooks(portal, captured):
    connection, oauth = connect_square(portal)
    # What runserver writes for the callback request (django.server logs the request line with its query).
    logging.getLogger("django.server").info('"%s" %s %s', f"GET /integrations/square/callback/?code="
                                            f"{oauth['code']}&state={oauth['state']} HTTP/1.1", "302", "0")
    runs = sync_every_stream(connection)
    connection.refresh_from_db()
    access, refresh = connection.access_token, connection.refresh_token
    # A provider answer that echoes the token, logged by a careless handler, is still masked.
    logging.getLogger("shelfops.test").warning("provider said: Authorization: Bearer %s", access)
    logging.getLogger("shelfops.test").error("token exchange body: %s",
                                             json.dumps({"access_token": access, "refresh_token": refresh}))
    for quantity in ("3", "4"):
        event = square_webhook(portal, connection, "inventory.count.updated", inventory_counts(quantity),
                               "inventory_counts")
        assert event.status == "processed", event.error

    secrets = {
        "access token": access, "refresh token": refresh, "oauth code": oauth["code"],
        "oauth state": oauth["state"], "client secret": settings.SQUARE_CLIENT_SECRET,
        "signature key": settings.SQUARE_WEBHOOK_SIGNATURE_KEY, "secret key": settings.SECRET_KEY,
        **{f"fernet key {i}": k for i, k in enumerate(settings.FERNET_KEYS)},
    }
    assert all(v and len(v) >= 8 for v in secrets.values()), secrets.keys()
    lines = captured.getvalue().splitlines()
    assert len(lines) >= 3 and runs
    for line in lines:
        json.loads(line)  # production format: one JSON object per line
        for name, value in secrets.items():
            assert value not in line, f"{name} in log line: {line[:300]}"
    assert any("code=[REDACTED]&state=[REDACTED]" in line for line in lines)


def test_log_lines_inside_a_run_or_an_event_carry_their_ids(retailer, captured):
    connection = Connection.objects.create(retailer=retailer, provider="square", external_account_id="LOGIDS",
                                           status="active")
    run = SyncRun.objects.create(connection=connection, stream="orders", status="succeeded")
    engine.execute(run.pk)  # not queued: logs that it has nothing to do
    line = json.loads(captured.getvalue().splitlines()[-1])
    assert line["run_id"] == run.pk and "not queued" in line["event"]
    assert "connection_id" not in line  # reserved for the block, never filled: left out


def test_requests_get_a_request_id_on_lines_and_response(db, captured):
    # Not /healthz: health probes are answered ahead of every other middleware (production's host checks).
    response = Client().get("/accounts/login/", HTTP_X_REQUEST_ID="req-abcdef123")
    assert response["X-Request-ID"] == "req-abcdef123"
    logging.getLogger("shelfops.test").info("outside any request")
    assert "request_id" not in json.loads(captured.getvalue().splitlines()[-1])
    assert Client().get("/accounts/login/", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"] != (
        "bad id with spaces")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("json_lines", [False, True])
def test_gunicorn_access_log_has_no_oauth_query_values(tmp_path, json_lines):
    port, log_file = _free_port(), tmp_path / "access.log"
    child_env = {**os.environ, "LOG_JSON": "true" if json_lines else "false"}
    cmd = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers",
           "1", "--access-logfile", str(log_file), "shelfops.wsgi:application"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/healthz?code=sq0cgp-SECRETCODE&state=STATE-SECRET-1&hmac=deadbeefcafe&shop=a"
        for _ in range(300):  # gunicorn boots slowly on a busy machine
            try:
                requests.get(url, headers={"Referer": "https://x.test/?code=REFERERCODE1",
                                           "Authorization": "Bearer SECRET-BEARER-1"}, timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.2)
        for _ in range(100):
            if log_file.exists() and log_file.read_text().strip():
                break
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = log_file.read_text()
    assert "/healthz" in text and "shop=a" in text
    for secret in ("SECRETCODE", "STATE-SECRET-1", "deadbeefcafe", "REFERERCODE1", "SECRET-BEARER-1"):
        assert secret not in text
    if json_lines:
        assert json.loads(text.splitlines()[0])["path"] == "/healthz"
