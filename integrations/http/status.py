"""Read-only views of the shared client state for staff (connection admin)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from . import config
from .store import get_store

log = logging.getLogger("shelfops.http")


def breaker_status(connection, *, now: float | None = None) -> str:
    """The connection's circuit breaker in words: "closed", "OPEN since ... (probe in Ns)", "half-open"."""
    from integrations.providers.registry import UnknownProvider, get_provider

    try:
        key = get_provider(connection.provider).account_key(connection)
        state = get_store().breaker_state(key)
    except UnknownProvider:
        return "unknown provider"
    except Exception:  # noqa: BLE001  (an admin page must render even when Redis is down)
        log.warning("could not read breaker state for connection %s", connection.pk, exc_info=True)
        return "unknown (state store unreachable)"
    now = time.time() if now is None else now
    if state["state"] == "open":
        opened = state.get("opened_at", now)
        probe_in = max(0.0, opened + float(config.setting("HTTP_BREAKER_COOLDOWN_SECONDS")) - now)
        since = datetime.fromtimestamp(opened, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"OPEN since {since} (provider calls rejected; next probe in {probe_in:.0f}s)"
    if state["state"] == "half_open":
        return "half-open (one probe call in flight)"
    failures = state.get("failures", 0)
    return f"closed ({failures} recent failure{'s' if failures != 1 else ''})" if failures else "closed"
