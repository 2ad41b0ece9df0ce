"""bench/webhooks.py's fallback load generator when wrk is not installed: asyncio clients in the bench's own process,
one request per connection (as gunicorn's sync workers answer), 10% of the requests repeats of an acknowledged event.
On a small machine it competes with gunicorn for the CPU, so it measures lower rates than wrk."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable


async def _load(port: int, request_for: Callable[[int], tuple[str, str, bytes]], duration: float, connections: int,
                seed: int, duplicate_share: float) -> dict:
    rng = random.Random(seed)
    acked: dict[str, str] = {}  # event id -> provider, for every unique event answered 2xx
    sent: list[tuple[str, str, bytes]] = []  # (provider, event id, request) already sent, for duplicates
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(10**9))
    deadline = time.monotonic() + duration
    duplicates = 0

    async def one_client():
        nonlocal duplicates
        while time.monotonic() < deadline:
            if sent and rng.random() < duplicate_share:
                provider, event_id, request = rng.choice(sent)
                is_duplicate = True
            else:
                provider, event_id, request = request_for(next(counter))
                is_duplicate = False
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                await writer.drain()
                answer = await reader.read()
                writer.close()
            except OSError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            latencies.append(time.perf_counter() - started)
            status = int(answer[9:12]) if answer[:5] == b"HTTP/" else 0
            if 200 <= status < 300:
                if is_duplicate:
                    duplicates += 1
                else:
                    acked[event_id] = provider
                    sent.append((provider, event_id, request))
            else:
                errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1

    started = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(connections)))
    elapsed = time.monotonic() - started
    return {"acked": acked, "errors": errors, "elapsed": elapsed, "duplicates": duplicates,
            "responses": len(latencies), "requests_sent": len(latencies) + sum(errors.values()),
            "p50_ms": _percentile_ms(latencies, 50), "p99_ms": _percentile_ms(latencies, 99)}


def run(port: int, request_for: Callable[[int], tuple[str, str, bytes]], duration: float, connections: int,
        seed: int, duplicate_share: float, cpu) -> dict:
    """One run; the same result shape as bench/_webhooks_wrk.py's (without wrk's socket error counts)."""
    cpu.start()
    result = asyncio.run(_load(port, request_for, duration, connections, seed, duplicate_share))
    return result | cpu.stop()


def _percentile_ms(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 2)
    return round(statistics.quantiles(values, n=1000, method="inclusive")[q * 10 - 1] * 1000, 2)
