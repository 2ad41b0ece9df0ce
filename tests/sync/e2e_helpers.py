"""Helpers for the sync end-to-end tests: a worker pointed at the sandbox, connections holding sandbox tokens,
waiting for runs."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings

from integrations.models import Connection, SyncRun
from integrations.sync import services
from tests.processes import CeleryWorker, wait_until

SCOPES = {"square": ["MERCHANT_PROFILE_READ", "ITEMS_READ", "INVENTORY_READ", "ORDERS_READ"],
          "shopify": ["read_products", "read_inventory", "read_locations", "read_orders"]}


def worker_env(sandbox, **extra) -> dict[str, str]:
    env = {
        "SANDBOX_URL": sandbox.url,
        "SQUARE_BASE_URL": f"{sandbox.url}/square",
        "SHOPIFY_BASE_URL_TEMPLATE": f"{sandbox.url}/shopify/{{shop}}",
        # Initial and --full Shopify loads of variants/orders run the sandbox's bulk operations; poll them briskly.
        "SHOPIFY_BULK_POLL_SECONDS": "0.2",
        "HTTP_BACKOFF_BASE_SECONDS": "0.05",
        "HTTP_BACKOFF_MAX_SECONDS": "0.5",
        "HTTP_REACTIVE_SLOW_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_worker(sandbox, concurrency: int = 4, **extra) -> CeleryWorker:
    return CeleryWorker(extra_env=worker_env(sandbox, **extra), concurrency=concurrency).start()


def unthrottled_shop(sandbox) -> None:
    """Put the sandbox's Shopify shop on the Plus plan (a 20,000-point GraphQL bucket restoring 1,000/s instead of
    Standard's 2,000 and 100/s). For tests whose subject is not the cost budget: a full read of the default shop's
    1,200 inventory levels costs ~3,600 points, which on Standard means ~3 s of waiting per page once the bucket is
    dry (16 s and more per full sync, 36 s per stock check). The same pages are read either way. Pacing against
    the Standard bucket stays proved end to end by test_e2e_sandbox.py::test_initial_incremental_and_idle_runs
    [shopify] (which keeps Standard) and, exactly, by tests/sandbox/test_sandbox_shopify.py and
    tests/http/test_shared_budget.py."""
    sandbox.set_faults("shopify", plan="plus")


def sandbox_connection(sandbox, retailer, provider: str) -> Connection:
    account = sandbox.default_account(provider)
    client_id = settings.SQUARE_CLIENT_ID if provider == "square" else settings.SHOPIFY_CLIENT_ID
    token = sandbox.state.issue_token(provider, account, client_id, "access", None, scopes=SCOPES[provider])
    return Connection.objects.create(retailer=retailer, provider=provider, external_account_id=account,
                                     status=Connection.Status.ACTIVE, access_token=token)


def finished(runs):
    ids = [r.pk for r in runs]
    rows = list(SyncRun.objects.filter(pk__in=ids))
    return rows if all(r.status not in ("queued", "running") for r in rows) else None


def sync_all(connection, *, full=False, timeout=180) -> dict[str, SyncRun]:
    """Queue every stream (as "sync now" does), wait for a worker to finish them, return runs by stream."""
    runs = services.request_all(connection, full=full, trigger="manual")
    assert len(runs) == len(services.stream_names(connection)), "a stream was already active"
    done = wait_until(lambda: finished(runs), timeout=timeout, interval=0.25, what="sync runs to finish")
    by_stream = {r.stream: r for r in done}
    failed = {s: r.error for s, r in by_stream.items() if r.status != "succeeded"}
    assert not failed, failed
    return by_stream


def cancel_last_sale(sandbox, provider: str) -> None:
    """The sandbox has no "cancel order" change: cancel the newest run-time order in its data, moving its
    updated_at to now as the provider would (the order stays the newest, so the overlay stays sorted)."""
    m = sandbox.merchant(provider)
    with m.lock:
        order = m.overlay.orders[-1]
        m.overlay.orders[-1] = replace(order, state="CANCELED", updated_at=sandbox.state.now_dt())
        m.overlay.version += 1
