"""`make run` restarts a process that dies (scripts/supervise.sh) and says so, instead of stopping everything."""

import os
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from tests.processes import ROOT, wait_until

pytestmark = pytest.mark.faults


@pytest.fixture
def supervised(tmp_path):
    """Start ``supervise`` (as run.sh does) over a command; stop the supervisor (and so its child) afterwards."""
    started = []

    def start(command: str) -> subprocess.Popen:
        script = (
            "set -euo pipefail; pids=(); source scripts/supervise.sh; "
            f"supervise probe {tmp_path}/probe.log sh -c {shlex.quote(command)}; "
            "trap 'kill -TERM ${pids[@]}; wait' TERM; wait"
        )
        proc = subprocess.Popen(["bash", "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)


def test_a_process_killed_with_sigkill_is_started_again_and_logged(supervised, tmp_path):
    pidfile = tmp_path / "pid"
    supervised(f"echo $$ > {pidfile}; exec sleep 60")
    first = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the first start"))
    os.kill(first, signal.SIGKILL)
    second = int(wait_until(
        lambda: pidfile.read_text().strip() not in ("", str(first)) and pidfile.read_text().strip(),
        timeout=15, what="a restart after SIGKILL",
    ))
    assert second != first
    log = (tmp_path / "probe.log").read_text()
    assert "probe exited with status 137; restarting in 1s" in log


def test_a_process_that_keeps_exiting_is_restarted_with_backoff(supervised, tmp_path):
    runs = tmp_path / "runs"
    proc = supervised(f"echo run >> {runs}; exit 3")
    wait_until(lambda: runs.exists() and len(runs.read_text().split()) >= 3, timeout=20, what="three starts")
    log = Path(tmp_path / "probe.log").read_text()
    assert "probe exited with status 3; restarting in 1s" in log
    assert "probe exited with status 3; restarting in 2s" in log  # backing off, not spinning
    assert proc.poll() is None  # the supervisor itself keeps running


def _terminal_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.mark.parametrize("how", ["hangup", "ctrl-c"])
def test_closing_the_terminal_or_ctrl_c_stops_the_process_and_leaves_no_orphan(tmp_path, how):
    """A terminal hang-up (SIGHUP) or Ctrl-C (SIGINT) goes to the whole foreground process group. The child here
    ignores both, as a Celery worker survives SIGHUP by re-executing itself: it must still end, stopped by its
    supervisor with TERM, never be left running with no parent. (Before, run.sh trapped only INT and TERM: closing
    the terminal of a `make run` left its three Celery workers running as orphans, seen in tmux.)"""
    assert "trap cleanup INT TERM HUP EXIT" in (ROOT / "scripts" / "run.sh").read_text()
    pidfile = tmp_path / "pid"
    child = f"trap '' HUP INT; echo $$ > {pidfile}; while :; do sleep 0.2; done"
    script = (
        "set -euo pipefail; pids=(); source scripts/supervise.sh; "
        f"supervise probe {tmp_path}/probe.log sh -c {shlex.quote(child)}; "  # $$ must reach sh, not bash
        "trap stop_supervised INT TERM HUP EXIT; wait"  # as scripts/run.sh does
    )
    # A session of its own, as a terminal gives `make run`; the signal goes to the group, as the terminal sends it.
    # Signal dispositions as a terminal gives them: a test run in the background (CI, nohup) inherits SIGINT and
    # SIGHUP ignored, and bash cannot trap a signal ignored when it starts.
    proc = subprocess.Popen(["bash", "-c", script], cwd=ROOT, start_new_session=True, preexec_fn=_terminal_signals)
    pid = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the child to start"))
    os.killpg(proc.pid, signal.SIGHUP if how == "hangup" else signal.SIGINT)
    proc.wait(30)

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    try:
        assert wait_until(gone, timeout=20, what="the child to be stopped")
    finally:
        if not gone():
            os.kill(pid, signal.SIGKILL)
