"""Helpers for NetSuite end-to-end tests: a sandbox account of a chosen size, a connection holding a token the
sandbox issued, Celery worker processes pointed at the sandbox, and runs requested and awaited."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations.models import Connection, SyncRun
from integrations.sync.services import request_sync
from sandbox.data import Merchant, Sizes

from ..processes import CeleryWorker, wait_until

CLIENT_ID = "shelfops-local-netsuite-client"


def account_host(account: str) -> str:
    return account.lower().replace("_", "-")


def sandbox_account(sandbox, account: str, sizes: Sizes) -> Merchant:
    """Give the sandbox account its own data size (the generator is lazy: a big table costs nothing until read)."""
    state = sandbox.state
    merchant = Merchant(f"{state.config.seed}:netsuite:{account_host(account)}", sizes, anchor=state.config.anchor)
    with state.lock:
        state.merchants[("netsuite", account_host(account))] = merchant
    return merchant


def connect(sandbox, retailer, account: str, **settings) -> Connection:
    """An active NetSuite connection whose access token the sandbox issued (as after the code grant)."""
    token = sandbox.state.issue_token("netsuite", account.upper(), CLIENT_ID, "access", 3600,
                                      scopes=["rest_webservices"])
    return Connection.objects.create(
        retailer=retailer, provider="netsuite", external_account_id=account, status=Connection.Status.ACTIVE,
        access_token=token, refresh_token="unused-refresh-token", scopes="rest_webservices",
        token_expires_at=timezone.now() + timedelta(minutes=55), settings=settings,
    )


def start_workers(sandbox, count: int = 1, threads: int = 4) -> list[CeleryWorker]:
    from shelfops.celery import app

    app.control.purge()
    workers = []
    try:
        for _ in range(count):
            workers.append(CeleryWorker(extra_env={"SANDBOX_URL": sandbox.url}, concurrency=threads).start())
    except Exception:
        stop_workers(workers)
        raise
    return workers


def stop_workers(workers) -> None:
    for worker in workers:
        worker.stop()


def sync(connection, streams, *, full=False, timeout=120.0) -> dict[str, SyncRun]:
    """Request the streams at once (they run concurrently in the workers) and wait for every run to finish."""
    with transaction.atomic():
        runs = {name: request_sync(connection, name, full=full, trigger="manual") for name in streams}
    assert all(runs.values()), runs
    ids = [run.pk for run in runs.values()]
    done = (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED, SyncRun.Status.CANCELLED)
    wait_until(lambda: SyncRun.objects.filter(pk__in=ids, status__in=done).count() == len(ids), timeout=timeout,
               interval=0.25, what=f"runs {list(runs)} to finish")
    finished = {run.stream: run for run in SyncRun.objects.filter(pk__in=ids)}
    failed = {name: run.error for name, run in finished.items() if run.status != SyncRun.Status.SUCCEEDED}
    assert not failed, failed
    return finished
