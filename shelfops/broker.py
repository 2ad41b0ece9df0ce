"""kombu's Redis transport with one fix: a worker no longer dies when Redis drops while it holds unacknowledged
messages (issue 16).

Reproduced by ``tests/faults/test_scenarios.py::test_redis_killed_for_ten_seconds_and_restarted`` (about one run
in three under load with a thread-pool worker): after the lost connection Celery closes it, the channel's close
tries to put the unacknowledged messages back (``QoS.restore_unacked_once``), and if the connection object has
already been torn down (``connection.client is None``) building a Redis client raises ``AttributeError``.
Celery only ignores connection errors while closing, so the AttributeError is "Unrecoverable" and the worker exits.

Here that case raises the transport's own ``ConnectionError`` instead, which Celery ignores and then reconnects.
Nothing is lost: Redis is unreachable at that moment anyway, so the restore could not have worked; the messages
stay in Redis's unacknowledged set and are delivered again after the visibility timeout, and the database sweeps
(webhook events, queued sync runs) re-send sooner."""

from __future__ import annotations

import logging

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            log.warning("broker connection already closed: unacknowledged messages stay in Redis and are delivered "
                        "again after the visibility timeout")
            raise RedisConnectionError("the broker connection is already closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
