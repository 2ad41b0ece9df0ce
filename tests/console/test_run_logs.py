"""`make run` keeps the previous runs' logs (scripts/rotate_logs.sh, called by scripts/run.sh) instead of
overwriting them."""

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rotate_logs.sh"


def test_each_start_shifts_the_logs_and_keeps_five(tmp_path):
    for run in range(1, 8):
        (tmp_path / "web.log").write_text(f"run {run}\n")
        (tmp_path / "worker.log").write_text(f"worker {run}\n")
        subprocess.run(["bash", str(SCRIPT), str(tmp_path)], check=True)
    assert not (tmp_path / "web.log").exists()
    assert (tmp_path / "web.log.1").read_text() == "run 7\n"
    assert (tmp_path / "web.log.5").read_text() == "run 3\n"
    assert not (tmp_path / "web.log.6").exists()
    assert (tmp_path / "worker.log.2").read_text() == "worker 6\n"


def test_run_script_rotates_before_starting():
    run = (SCRIPT.parent / "run.sh").read_text()
    assert run.index("rotate_logs.sh") < run.index("runserver")
