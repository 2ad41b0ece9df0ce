"""How busy the machine was during a measured window, split into this benchmark's processes and everything else.

On a shared machine another engineer's test suite can take a good part of the CPU during a run, and the rate drops
with it (seen here, same settings: the webhooks ceiling at 1,650/s while other processes used about 4% of a core,
800/s while they used about 55%). A result that records this can be judged instead of trusted. Linux only (/proc);
elsewhere the figures are None.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PROC = Path("/proc")


def _ticks() -> dict[int, tuple[int, int, str]] | None:
    """{pid: (parent pid, user + system ticks used so far, command line)}."""
    if not PROC.joinpath("stat").exists():
        return None
    procs = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        rest = stat[stat.rindex(")") + 2:].split()  # the command name may contain spaces and parentheses
        procs[int(entry.name)] = (int(rest[1]), int(rest[11]) + int(rest[12]), cmdline)
    return procs


class CpuShare:
    """start() right before the load, stop() right after: percent of one core used by ours / others meanwhile.

    Ours: this process and its descendants (gunicorn, its workers, wrk) and the PostgreSQL backends of our database
    (their command line names it). Shared servers (Redis, the postmaster) count as others."""

    def __init__(self, database: str):
        self.marker = f" {database} "
        self.before = None
        self.started = 0.0

    def start(self) -> None:
        self.before = _ticks()
        self.started = time.monotonic()

    def stop(self) -> dict:
        after = _ticks()
        seconds = time.monotonic() - self.started
        if self.before is None or after is None or seconds <= 0:
            return {"cpu_ours_pct": None, "cpu_others_pct": None}
        procs0, procs1 = self.before, after
        ours = {os.getpid()}
        grew = True
        while grew:  # descendants, by parent pid
            grew = False
            for pid, (ppid, _, cmdline) in procs1.items():
                if pid not in ours and (ppid in ours or self.marker in cmdline):
                    ours.add(pid)
                    grew = True
        # Process ticks only: interrupt time (loopback networking) is nobody's here. A process that started during
        # the window counts all its ticks; one that ended is in neither figure (every process of ours outlives the
        # load; an engineer's short test processes may be missed).
        used = {pid: t - procs0.get(pid, (0, 0, ""))[1] for pid, (_, t, _) in procs1.items()}
        per_pct = 100 / (os.sysconf("SC_CLK_TCK") * seconds)
        return {"cpu_ours_pct": round(sum(t for pid, t in used.items() if pid in ours) * per_pct),
                "cpu_others_pct": round(sum(t for pid, t in used.items() if pid not in ours) * per_pct)}
