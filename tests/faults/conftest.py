"""The fault suite prints each scenario's figures in pytest's summary, so CI's log shows them without ``-s``."""

import json
import os
from pathlib import Path

from tests.processes import ROOT


def report_path() -> Path:
    return Path(os.environ.get("FAULTS_REPORT", ROOT / "var" / "faults.jsonl"))


def pytest_configure(config):  # called for this conftest too when it is imported late (whole-suite runs)
    report_path().unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter):
    path = report_path()
    if not path.exists():
        return
    terminalreporter.section("fault suite figures (issue 16)")
    for line in path.read_text().splitlines():
        row = json.loads(line)
        name = row.pop("scenario")
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
