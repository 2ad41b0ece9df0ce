"""Tasks only the fault suite's workers load (``celery worker --include tests.faults.held_tasks``, as
``test_broker_loss.py`` does): they hold a worker slot for a while, so the broker can be dropped while the worker
owns unacknowledged messages."""

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="faults.hold", acks_late=True)
def hold(marker_dir: str, key: str, seconds: float) -> str:
    folder = Path(marker_dir)
    (folder / f"{key}.started").touch()
    time.sleep(seconds)
    # One file per execution: a task run twice leaves two lines, so the test sees duplicates as well as losses.
    with open(folder / f"{key}.done", "a") as fh:
        fh.write("done\n")
    return key
