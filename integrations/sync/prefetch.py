"""Read the next page while the current one is ingested.

A page costs a provider round trip (and JSON decoding, mapping) plus an ingest transaction; doing them one after
the other leaves the database idle during the fetch and the provider idle during the ingest. ``prefetched`` runs
the stream's generator in a thread, at most ``depth`` pages ahead, so the two overlap. Pages are still committed
strictly in order by the caller, so the cursor rules are unchanged; a failure on either side stops the other.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from django.db import connections

_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetched(pages: Iterator, depth: int) -> Iterator:
    if depth <= 0:
        yield from pages
        return
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, which re-raises it
            put(_Failed(exc))
        finally:
            getattr(pages, "close", lambda: None)()
            connections.close_all()  # the call log and heartbeats used this thread's own connection

    thread = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)
