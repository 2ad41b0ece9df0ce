"""Sync processes give way on the CPU (integrations/sync/priority.py): a real Celery worker that consumes the syncs
queue and not the webhooks queue runs, pool threads included, at a nice value SYNC_WORKER_NICE above ours; a
webhooks worker keeps ours."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT, CeleryWorker


def nice_values(pid: int) -> set[int]:
    """The nice value of every thread of a process (field 19 of /proc/<pid>/task/<tid>/stat)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        values.add(int(fields[16]))
    return values


pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads nice values from /proc")


@pytest.mark.parametrize("queues, lowered", [("syncs,maintenance", True), ("webhooks", False),
                                             ("webhooks,syncs,maintenance", False)])
def test_a_worker_that_runs_syncs_and_no_webhooks_runs_at_a_lower_priority(transactional_db, queues, lowered):
    ours = os.nice(0)
    worker = CeleryWorker(concurrency=2, queues=queues, extra_env={"SYNC_WORKER_NICE": "7"}).start()
    try:
        values = nice_values(worker.proc.pid)
    finally:
        worker.stop()
    assert values == {min(ours + 7, 19) if lowered else ours}


def test_lowering_adds_sync_worker_nice_and_zero_leaves_the_priority_alone():
    code = ("import django, os; django.setup(); from django.conf import settings; "
            "from integrations.sync.priority import lower_priority; print(os.nice(0), lower_priority())")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="shelfops.settings", SYNC_WORKER_NICE="5")
    before, after = map(int, subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                                            capture_output=True, text=True).stdout.split())
    assert after == min(before + 5, 19)
    env["SYNC_WORKER_NICE"] = "0"
    before, after = map(int, subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                                            capture_output=True, text=True).stdout.split())
    assert after == before
