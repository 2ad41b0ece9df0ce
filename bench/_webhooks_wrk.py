"""wrk as bench/webhooks.py's load generator (when /usr/bin/wrk is installed; the issue quotes its ceiling "with wrk
on loopback"). A C load generator leaves the 2 cores to gunicorn, where the Python asyncio one took a large share.

The signed requests are generated before the run (not timed) into one file per wrk thread; bench/wrk_webhooks.lua
walks each file once and records every answer per event id, so the bench still knows exactly which unique events
were acknowledged 2xx. Same load shape as the Python generator: unique events, 10% of the requests repeats of an
earlier event of the same client.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

WRK = "/usr/bin/wrk"
SCRIPT = Path(__file__).resolve().parent / "wrk_webhooks.lua"
# Latencies above this are not in wrk's histogram (counted as timeouts instead); 5 s is also Shopify's limit, past
# which the delivery counts as failed anyway. wrk allocates one bucket per microsecond up to it.
TIMEOUT = "5s"


def available() -> bool:
    return Path(WRK).is_file()


def version() -> str:
    out = subprocess.run([WRK, "-v"], capture_output=True, text=True).stdout
    return out.split("[")[0].strip() or "wrk"  # "wrk debian/4.1.0-3+b2 [epoll] Copyright ..."


def write_requests(directory: Path, request_for: Callable[[int], tuple[str, str, bytes]], threads: int,
                   per_thread: int, duplicate_share: float, seed: int) -> dict[str, str]:
    """thread-<n>.req for n = 1..threads, per_thread requests each; returns event id -> provider.

    Thread n's unique events are the indexes [(n-1)*per_thread, n*per_thread), so providers still alternate within
    every thread and no two threads share an event; a duplicate repeats the exact bytes of an earlier request of the
    same file."""
    rng = random.Random(seed)
    providers: dict[str, str] = {}
    for n in range(1, threads + 1):
        base = (n - 1) * per_thread
        earlier: list[bytes] = []
        unique = 0
        with open(directory / f"thread-{n}.req", "wb") as out:
            for _ in range(per_thread):
                if earlier and rng.random() < duplicate_share:
                    record = rng.choice(earlier)
                else:
                    provider, event_id, raw = request_for(base + unique)
                    unique += 1
                    providers[event_id] = provider
                    record = f"{len(raw)} {event_id}\n".encode() + raw
                    earlier.append(record)
                out.write(record)
    return providers


def run(port: int, request_for: Callable[[int], tuple[str, str, bytes]], duration: int, connections: int,
        seed: int, max_rate: float, duplicate_share: float, cpu, rate: float | None = None) -> dict:
    """One wrk run; the same result shape as bench/_webhooks_python_load.run. ``rate``: pace the requests to about
    that many per second in all (wrk_webhooks.lua's delay()); None sends as fast as the answers come."""
    # Enough requests for max_rate over the whole run; a thread that still runs out stops (never wraps around) and
    # the run is refused below, so a too-short list can never pass for a lower throughput.
    per_thread = math.ceil(max_rate * duration / connections)
    directory = Path(tempfile.mkdtemp(prefix="bench-webhooks-wrk-"))
    try:
        providers = write_requests(directory, request_for, connections, per_thread, duplicate_share, seed)
        # One thread per connection: see wrk_webhooks.lua (it ties each answer to its request that way).
        cpu.start()
        proc = subprocess.run(
            [WRK, "-t", str(connections), "-c", str(connections), "-d", f"{duration}s", "--timeout", TIMEOUT,
             "-s", str(SCRIPT), f"http://127.0.0.1:{port}/"],
            env={"WRK_WEBHOOKS_DIR": str(directory), "PATH": "/usr/bin:/bin",
                 "WRK_INTERVAL_US": str(round(1e6 * connections / rate)) if rate else "0"},
            capture_output=True, text=True,
        )
        cpu_share = cpu.stop()
        if proc.returncode != 0 or not (directory / "result.txt").exists():
            raise SystemExit(f"wrk failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return _parse(directory / "result.txt", providers, per_thread) | cpu_share
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _parse(path: Path, providers: dict[str, str], per_thread: int) -> dict:
    acked: dict[str, str] = {}
    errors: dict[str, int] = {}
    duplicates = started = recorded = over_399 = 0
    latencies: list[int] = []
    exhausted = []
    with open(path) as lines:
        for line in lines:
            parts = line.split()
            if parts[0] == "summary":
                duration_us, responses, connect, read, write, status, timeout, p50, p99, worst = map(int, parts[1:])
            elif parts[0] == "thread":
                started += int(parts[2])
                if parts[3] == "1":
                    exhausted.append(parts[1])
            else:
                event_id, code = parts[0], int(parts[1])
                latencies.append(int(parts[2]))
                recorded += 1
                over_399 += code > 399
                if 200 <= code < 300:
                    if event_id in acked:
                        duplicates += 1
                    else:
                        acked[event_id] = providers[event_id]
                else:
                    errors[f"HTTP {code}"] = errors.get(f"HTTP {code}", 0) + 1
    if exhausted:
        raise SystemExit(f"wrk threads {', '.join(exhausted)} used up their {per_thread} pre-generated requests "
                         "before the end of the run: the figures would be capped by the list; raise --max-rate")
    # The answers the script tied to event ids must be exactly the ones wrk counted; otherwise the pairing of
    # requests and answers (one connection per thread) did not hold and the accounting cannot be trusted.
    if (recorded, over_399) != (responses, status):
        raise SystemExit(f"wrk counted {responses} answers ({status} over 399), the script recorded {recorded} "
                         f"({over_399} over 399)")
    # Every socket error wrk saw, zero or not: gunicorn's sync workers close the connection after each answer
    # (with "Connection: close", which wrk follows without counting an error), so any count here is a real failure.
    socket_errors = {"connect": connect, "read": read, "write": write, "timeout": timeout}
    errors.update({f"socket {k}": v for k, v in socket_errors.items() if v})
    return {
        "acked": acked, "duplicates": duplicates, "errors": errors, "socket_errors": socket_errors,
        "elapsed": duration_us / 1e6, "responses": responses,
        # wrk calls request() once before the run on its first thread and never sends that one.
        "requests_sent": started - 1,
        # wrk's percentiles (with its coordinated-omission correction, see wrk_webhooks.lua), and the raw ones.
        "p50_ms": round(p50 / 1000, 2), "p99_ms": round(p99 / 1000, 2), "max_ms": round(worst / 1000, 2),
        "raw_p50_ms": _percentile_ms(latencies, 50), "raw_p99_ms": _percentile_ms(latencies, 99),
    }


def _percentile_ms(values: list[int], q: int) -> float | None:
    """Nearest-rank percentile of microsecond values, in ms."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(len(ordered) * q / 100) - 1)] / 1000, 2)
