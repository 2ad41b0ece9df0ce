"""Shopify bulk operations for the initial (or ``--full``) load of a large shop (provider-facts 2.4).

Start ``bulkOperationRunQuery``, poll ``bulkOperation(id:)`` (heartbeating the run while waiting), then stream
the JSONL result line by line: the file is never loaded whole, and records are handed to the engine in pages, so
memory stays flat however large the shop. Nested rows (order line items) come as their own lines with
``__parentId`` after their parent; a parent is emitted when the next top-level row starts.

The result URL is a pre-signed storage URL, not the shop's API: it is fetched with the resilient client's
``download_lines``, which sends no credentials (the shop's token must not go to a storage host), keeps timeouts,
retries 5xx/timeouts, has its own breaker per storage host, reopens a broken download after the lines already
read, and writes call-log rows with the URL's signed query string redacted.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator

from django.conf import settings

from . import queries

log = logging.getLogger(__name__)

DONE = {"COMPLETED", "FAILED", "CANCELED", "EXPIRED"}
ALREADY_RUNNING_RETRIES = 40


class BulkOperationFailed(Exception):
    pass


def start(client, query: str, heartbeat: Callable[[], None]) -> dict:
    """Start a bulk query; if the shop already runs one (one per shop before API 2026-01), wait and retry."""
    for _attempt in range(ALREADY_RUNNING_RETRIES):
        data = client.graphql(queries.BULK_RUN, {"query": query})["bulkOperationRunQuery"]
        errors = data.get("userErrors") or []
        if not errors:
            return data["bulkOperation"]
        text = "; ".join(e.get("message", "") for e in errors)
        busy = any(e.get("code") in ("OPERATION_IN_PROGRESS", "LIMIT_REACHED") for e in errors)
        if not busy and "already in progress" not in text.lower():
            raise BulkOperationFailed(f"bulkOperationRunQuery refused: {text}")
        heartbeat()
        time.sleep(settings.SHOPIFY_BULK_POLL_SECONDS)
    raise BulkOperationFailed("another bulk operation kept running on this shop")


def wait(client, operation_id: str, heartbeat: Callable[[], None]) -> dict:
    while True:
        status = client.graphql(queries.BULK_STATUS, {"id": operation_id})["bulkOperation"]
        if status is None:
            raise BulkOperationFailed(f"bulk operation {operation_id} not found")
        if status["status"] in DONE:
            if status["status"] != "COMPLETED":
                raise BulkOperationFailed(
                    f"bulk operation {operation_id} {status['status'].lower()}: {status.get('errorCode') or ''}"
                )
            return status
        heartbeat()
        time.sleep(settings.SHOPIFY_BULK_POLL_SECONDS)


def iter_objects(client, url: str, skip: int = 0) -> Iterator[tuple[int, dict, list[dict]]]:
    """Yield (lines consumed so far, top-level object, its child rows) from the JSONL at ``url``, skipping the
    first ``skip`` lines (a resumed run). Line counts are only reported at object boundaries."""
    current: dict | None = None
    children: list[dict] = []
    consumed = skip
    for raw in client.download_lines(url, skip=skip):
        consumed += 1
        if not raw:
            continue
        row = json.loads(raw)
        if "__parentId" in row:
            children.append(row)
            continue
        if current is not None:
            yield consumed - 1, current, children
        current, children = row, []
    if current is not None:
        yield consumed, current, children
