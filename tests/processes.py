"""Real processes for end-to-end tests: a Celery worker on the test database, and a polling helper.

The worker is a separate OS process (not an eager or in-thread worker), started against the same database the
test uses (so tests that use it need ``transactional_db``/``live_server``) and the configured broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_current_test_db() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    auth = user if not db.get("PASSWORD") else f"{user}:{db['PASSWORD']}"
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def wait_until(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.1, what: str = ""):
    """Poll until ``predicate()`` is truthy; fail the test with ``what`` if it never becomes so."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


class CeleryWorker:
    # Every queue by default (settings.SHELFOPS_QUEUES): one test worker stands in for the three of production.
    # ``include``: extra task modules to load (``celery worker --include``), e.g. the fault suite's held tasks.
    def __init__(
        self, extra_env: dict[str, str] | None = None, concurrency: int = 4, queues: str = "webhooks,syncs,maintenance",
        include: str | None = None,
    ):
        self.extra_env = extra_env or {}
        self.concurrency = concurrency
        self.queues = queues
        self.include = include
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []
        self._ready = threading.Event()

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DATABASE_URL"] = database_url_for_current_test_db()
        env["VAR_DIR"] = str(settings.VAR_DIR)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> CeleryWorker:
        cmd = [
            sys.executable, "-m", "celery", "-A", "shelfops", "worker", "-P", "threads",
            "-c", str(self.concurrency), "-Q", self.queues, "-l", "info",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]
        if self.include:
            cmd += ["--include", self.include]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("celery worker did not become ready:\n" + "".join(self.output[-50:]))
        return self

    def _pump(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.output.append(line)
            if " ready." in line:
                self._ready.set()

    def kill(self) -> None:
        """Kill -9: the worker dies mid-task, as a crashed machine would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
