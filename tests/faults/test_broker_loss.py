"""Issue 16's broker-loss crash, shown on the code before the fix and gone with it: a thread-pool worker that holds
unacknowledged tasks when Redis is SIGKILLed exits for good on kombu's stock Redis transport, and survives on the
portal's (``shelfops/broker.py``). Same steps for both; only the transport differs (the stock worker runs with
``tests/faults/stock_kombu_settings.py``).

What makes it deterministic (traced in the worker): it must hold unacknowledged messages AND have a BRPOP pending
on its task channel, i.e. a free slot (4 threads, 3 held tasks; the test waits until Redis reports the blocked
BRPOP). In every run here the worker first read the closed pub/sub socket of its remote-control channel, so Celery's
first cleanup (``Connection.collect``) closed the task channel with the BRPOP still pending: reading it fails before
the unacknowledged messages are restored, closing the remote-control channel fails too, and the connection object
is torn down (``transport.client = None``). The second close (``ignore_errors(connection, connection.close)``, which
ignores connection errors only) then restores them by building a Redis client from ``client.hostname``:
``AttributeError``, "Unrecoverable error", exit code 1. With every slot busy no BRPOP is pending, the restore runs
(and fails with a connection error) in the first close and even stock kombu survives; the scenario test
(``test_scenarios.py``), whose slots are busy or not by chance, caught it about one run in three. Measured with
these steps, the stock worker exited every time (10 runs of a scratch script, 10 of this test), so the stock test
asserts the crash on its single attempt."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from kombu.transport.redis import Channel as KombuRedisChannel

from tests.processes import CeleryWorker, wait_until

from .harness import PrivateRedis, portal_env

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.django_db]

CONCURRENCY = 4
HELD = CONCURRENCY - 1  # one slot left free, so a BRPOP is pending when Redis dies (see the docstring)
OUTAGE_SECONDS = 3
# Longer than the outage: the held tasks are still running when Redis comes back.
HOLD_SECONDS = OUTAGE_SECONDS + 2
CRASH = "Unrecoverable error: AttributeError(\"'NoneType' object has no attribute 'hostname'\")"


class HeldTasksRig:
    """A private Redis and a ``-P threads`` worker that loads ``tests.faults.held_tasks``."""

    def __init__(self, markers: Path, settings_module: str | None):
        self.markers = markers
        self.redis = PrivateRedis().start()
        env = portal_env(self.redis.url)
        if settings_module:
            env["DJANGO_SETTINGS_MODULE"] = settings_module
        self.worker = CeleryWorker(extra_env=env, concurrency=CONCURRENCY, queues="maintenance",
                                   include="tests.faults.held_tasks").start()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis.url, socket_timeout=2)

    def send(self, key: str, seconds: float) -> None:
        from shelfops.celery import app

        with app.connection_for_write(self.redis.url) as conn:
            app.send_task("faults.hold", args=[str(self.markers), key, seconds], connection=conn)

    def runs(self, key: str) -> int:
        done = self.markers / f"{key}.done"
        return done.read_text().count("done") if done.exists() else 0

    def log(self) -> str:
        return "".join(self.worker.output)

    def hold_slots_and_kill_redis(self) -> list[str]:
        """Fill all slots but one with held tasks, wait until they run unacknowledged and the free slot's BRPOP
        is blocked in Redis, then SIGKILL Redis."""
        keys = [f"held-{n}" for n in range(HELD)]
        for key in keys:
            self.send(key, HOLD_SECONDS)
        wait_until(lambda: all((self.markers / f"{key}.started").exists() for key in keys), timeout=20,
                   what="every held task to start")
        client = self.client()
        wait_until(lambda: client.hlen(KombuRedisChannel.unacked_key) == HELD, timeout=10,
                   what="the held tasks to be unacknowledged in Redis")
        wait_until(lambda: client.info("clients")["blocked_clients"] >= 1, timeout=10,
                   what="the worker's BRPOP for its free slot to be blocked in Redis")
        client.close()
        self.redis.kill()
        return keys

    def stop(self) -> None:
        self.worker.stop()
        self.redis.stop()


@pytest.fixture
def rig_for(tmp_path):
    rigs = []

    def start(settings_module: str | None = None) -> HeldTasksRig:
        rigs.append(HeldTasksRig(tmp_path, settings_module))
        return rigs[-1]

    yield start
    for rig in rigs:
        rig.stop()


def test_stock_kombu_worker_exits_when_redis_is_killed_while_it_holds_tasks(rig_for):
    """The bug is real: on kombu's stock Redis transport the worker dies of the AttributeError."""
    rig = rig_for("tests.faults.stock_kombu_settings")
    assert "Connected to redis://" in rig.log(), "the worker is not on kombu's stock transport"
    rig.hold_slots_and_kill_redis()
    # It exits once its held tasks finish (a warm shutdown waits for them).
    wait_until(lambda: rig.worker.proc.poll() is not None, timeout=HOLD_SECONDS + 20,
               what="the stock-transport worker to exit")
    log = rig.log()
    assert CRASH in log, "the worker exited without the AttributeError:\n" + log[-6000:]
    assert "restore_unacked_once" in log[log.index(CRASH):]
    assert rig.worker.proc.returncode == 1


def test_portal_transport_worker_survives_the_same_redis_kill_and_runs_every_task(rig_for):
    """With ``shelfops/broker.py`` the same steps take the same path (its warning says so) and the worker
    reconnects: every held task completes exactly once and a task sent after the outage runs."""
    rig = rig_for()
    assert "Connected to shelfops.broker:Transport://" in rig.log()
    keys = rig.hold_slots_and_kill_redis()
    wait_until(lambda: "broker connection already closed" in rig.log(), timeout=10,
               what="the worker to meet the torn-down connection")
    time.sleep(OUTAGE_SECONDS)  # the outage: Redis stays down while the held tasks keep running
    assert rig.worker.proc.poll() is None, "the worker exited:\n" + rig.log()[-6000:]
    rig.redis.start()

    wait_until(lambda: all(rig.runs(key) for key in keys), timeout=HOLD_SECONDS + 10,
               what="every held task to complete")
    rig.send("after-outage", 0)
    wait_until(lambda: rig.runs("after-outage"), timeout=30, what="a task sent after the outage to run")
    assert {key: rig.runs(key) for key in [*keys, "after-outage"]} == {key: 1 for key in [*keys, "after-outage"]}
    assert rig.worker.proc.poll() is None
    assert CRASH not in rig.log()
    # Nothing is lost: the held tasks' acks went with the old connection, so their messages are still in Redis's
    # unacknowledged set (kept over the restart by the append-only file) and are delivered again after the
    # visibility timeout, as the README says; the task sent afterwards was acknowledged.
    client = rig.client()
    wait_until(lambda: client.hlen(KombuRedisChannel.unacked_key) == HELD, timeout=10,
               what="only the held tasks' messages to be left unacknowledged")
    client.close()
