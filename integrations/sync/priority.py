"""Syncs yield the CPU to webhook intake and processing: a process that runs syncs and no webhooks lowers its own
scheduling priority (``os.nice``) by ``SYNC_WORKER_NICE``.

A sync run is long CPU work (decoding pages, mapping, ingest) that nobody waits on by the millisecond; a webhook
must be acknowledged within the provider's timeout and processed within seconds. On a small machine the kernel
shares the cores evenly between runnable processes, so two sync runs took a third of the CPU from the web workers
(bench/webhooks.py "syncs": acknowledgement p99 3.4x the quiet figure). With a higher nice value the scheduler
gives the web and webhook processes the CPU whenever they want it, and the syncs everything left over: they still
finish, only later under contention. Their PostgreSQL backends are not ours to renice; that part of a sync's cost
still competes evenly.

Applied when a Celery worker starts (``worker_init`` in shelfops/celery.py, before its pool exists: prefork children
and pool threads inherit the value) and by ``manage.py sync``. A worker that also consumes the webhooks queue (the
test worker, a one-worker setup) is left alone. Raising the nice value needs no privilege; it cannot be undone by
the process itself, which is the point.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from django.conf import settings

log = logging.getLogger(__name__)
WEBHOOK_QUEUES = frozenset({"webhooks"})
SYNC_QUEUES = frozenset({"syncs"})


def lower_priority() -> int:
    """Add ``SYNC_WORKER_NICE`` to this process's nice value (0 leaves it alone); returns the nice value now."""
    increment = settings.SYNC_WORKER_NICE
    current = os.nice(0)
    if increment <= 0:
        return current
    now = os.nice(increment)
    log.info("sync process priority lowered: nice %d -> %d", current, now)
    return now


def lower_if_sync_worker(queues: Iterable[str]) -> bool:
    """For a Celery worker consuming ``queues``: lower its priority when it runs syncs and no webhooks."""
    names = set(queues)
    if names & WEBHOOK_QUEUES or not names & SYNC_QUEUES:
        return False
    lower_priority()
    return True
