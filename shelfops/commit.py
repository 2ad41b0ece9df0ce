"""How long a transaction's commit waits for the disk (PostgreSQL's ``synchronous_commit``, set per transaction).

Some transactions may lose their last fraction of a second of commits when the database server crashes, because
what they wrote can be redone: webhook processing is one. The event's outcome and everything its handler wrote
commit together, and an asynchronous commit is still atomic and kept in order, so after a crash the event is
simply not processed yet (``queued`` or ``received``) and the sweep hands it to a worker again: processed once,
later. Such a transaction runs in ``relaxed_transaction()``; its commit then returns without waiting for the
WAL flush (the WAL writer flushes it within ``wal_writer_delay`` x 3). Acknowledging a webhook is not such a
transaction: the inbox's INSERT stays synchronous, so an acknowledged event is on disk.

A write that cannot be redone inside such a transaction (a rotated OAuth refresh token: the provider has already
invalidated the old one) calls ``require_durable_commit()``: the setting in force at commit decides, so the whole
transaction waits for the disk again. Both are no-ops outside a transaction and on other databases.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, transaction


def _set_local(value: str) -> None:
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL synchronous_commit TO {value}")


@contextmanager
def relaxed_transaction():
    """``transaction.atomic()`` whose commit may return before its WAL is flushed (see the module text for when that
    is safe). Only when it is the outermost block: inside a caller's transaction it is a plain savepoint, since the
    setting would apply to the caller's whole transaction and its other writes."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            _set_local("off")
        yield


def require_durable_commit() -> None:
    """This transaction's commit waits for the WAL flush, whatever an enclosing caller relaxed."""
    _set_local("on")
