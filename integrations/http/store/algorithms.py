"""The budget, slot and breaker algorithms, as plain functions over a state dict.

This is the reference implementation: the database store runs it inside a row lock, and the Redis store's Lua
scripts (``lua.py``) are line-for-line translations of it, so both stores behave the same (the tests run the same
specifications against both). Every function takes ``now`` (seconds) from the caller, so the clock is injectable.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reservation:
    granted: bool
    wait: float  # seconds to wait before sending (granted) or before asking again (not granted)
    tokens: float | None  # tokens left after the reservation; None when the budget is unlimited (reactive, calm)


@dataclass(frozen=True)
class SlotGrant:
    granted: bool
    wait: float  # when not granted: seconds until the earliest lease expires
    in_use: int


def _refill(s: dict, now: float, rate: float, burst: float) -> tuple[float, float, float]:
    rate = max(float(s.get("rate", rate)), 1e-9)
    burst = float(s.get("burst", burst))
    tokens = float(s.get("tokens", burst))
    ts = float(s.get("ts", now))
    if now > ts:
        tokens = min(burst, tokens + (now - ts) * rate)
        ts = now
    s["tokens"], s["ts"] = tokens, ts
    return tokens, rate, burst


def bucket_reserve(s: dict, *, now: float, cost: float, rate: float, burst: float, max_wait: float,
                   headroom: float = 0.0, reactive: bool = False) -> Reservation:
    """Reserve ``cost`` tokens. Granted when the reservation can be honoured within ``max_wait`` seconds; the
    tokens are then taken now (they may go negative: later callers wait longer), and ``wait`` says when to send.
    Not granted: nothing is taken. ``blocked_until`` (set after a 429) delays every caller of the account."""
    blocked = float(s.get("blocked_until", 0.0))
    if reactive and now >= float(s.get("slow_until", 0.0)):
        # Calm reactive account (Square): no pre-emptive budget, only the post-429 block applies.
        s.pop("slow_until", None)
        s.pop("rate", None)
        wait = max(0.0, blocked - now)
        return Reservation(wait <= max_wait, wait, None)
    tokens, rate, burst = _refill(s, now, rate, burst)
    headroom = min(headroom, max(0.0, burst - cost))
    need = cost + headroom - tokens
    wait = max(need / rate if need > 0 else 0.0, blocked - now)
    if wait > max_wait:
        return Reservation(False, wait, tokens)
    s["tokens"] = tokens - cost
    return Reservation(True, wait, tokens - cost)


def bucket_adjust(s: dict, *, now: float, rate: float, burst: float, refund: float = 0.0,
                  cap: float | None = None, learn_rate: float | None = None, learn_burst: float | None = None,
                  block_until: float | None = None, slow_until: float | None = None, slow_factor: float = 0.5,
                  min_rate: float = 0.1) -> float:
    """Correct the shared budget from what the provider said: learn the real rate/size, give back what a request
    did not use (``refund``), never believe we have more than the provider reports (``cap``), block the account
    until a time (``Retry-After``), and slow a reactive account down (``slow_until``, multiplicative decrease)."""
    if learn_rate:
        s["rate"] = float(learn_rate)
    if learn_burst:
        s["burst"] = float(learn_burst)
    if slow_until is not None:
        current = float(s.get("rate", rate)) if float(s.get("slow_until", 0.0)) > now else rate
        s["rate"] = max(min_rate, current * slow_factor)
        s["slow_until"] = max(float(s.get("slow_until", 0.0)), slow_until)
    tokens, rate, burst = _refill(s, now, rate, burst)
    tokens = min(burst, tokens + refund)
    if cap is not None:
        tokens = min(tokens, cap)
    if slow_until is not None:
        tokens = min(tokens, 0.0)
    s["tokens"] = tokens
    if block_until is not None:
        s["blocked_until"] = max(float(s.get("blocked_until", 0.0)), block_until)
    return tokens


def slot_acquire(s: dict, *, holder: str, now: float, lease: float, limit: int) -> SlotGrant:
    """A distributed semaphore: a slot is a lease that expires, so a crashed holder frees it after ``lease``."""
    holders = {h: float(e) for h, e in s.get("holders", {}).items() if float(e) > now}
    if len(holders) < limit:
        holders[holder] = now + lease
        s["holders"] = holders
        return SlotGrant(True, 0.0, len(holders))
    s["holders"] = holders
    return SlotGrant(False, max(0.0, min(holders.values()) - now), len(holders))


def slot_release(s: dict, *, holder: str) -> None:
    s.get("holders", {}).pop(holder, None)


CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def breaker_before(s: dict, *, now: float, cooldown: float, probe_timeout: float) -> tuple[str, float]:
    """``allow`` (closed), ``probe`` (the one call let through after the cool-down) or ``reject`` with the
    seconds until a probe may go. A probe that never reports back (crashed worker) is replaced after
    ``probe_timeout``."""
    state = s.get("state", CLOSED)
    if state == OPEN:
        reopen_at = float(s.get("opened_at", 0.0)) + cooldown
        if now < reopen_at:
            return "reject", reopen_at - now
        s["state"], s["probe_until"] = HALF_OPEN, now + probe_timeout
        return "probe", 0.0
    if state == HALF_OPEN:
        probe_until = float(s.get("probe_until", 0.0))
        if now < probe_until:
            return "reject", probe_until - now
        s["probe_until"] = now + probe_timeout
        return "probe", 0.0
    return "allow", 0.0


def breaker_success(s: dict, *, now: float | None = None, window: float | None = None) -> str:
    """The provider answered: close the breaker (a successful probe closes a half-open one). While failures are
    on record, successes are counted too, so the breaker can judge the failure *rate* (with no failure in the
    window the rate is 0 whatever the successes, so they need no bookkeeping)."""
    previous = s.get("state", CLOSED)
    if previous != CLOSED:
        s.clear()
        s["state"] = CLOSED
    elif s.get("failures") and now is not None and window is not None:
        s["successes"] = [float(t) for t in s.get("successes", []) if float(t) > now - window] + [now]
    return previous


def breaker_failure(s: dict, *, now: float, window: float, threshold: int, rate: float = 0.0) -> str:
    """Count a failure; returns ``opened`` when this failure opened the breaker (alert once), else the state.
    Opens when at least ``threshold`` failures within ``window`` are also at least ``rate`` of the calls counted
    there: a provider failing 15% of calls slows a sync (retries) instead of cutting it off; one that is down
    fails every call and opens it after ``threshold`` failures as before."""
    state = s.get("state", CLOSED)
    if state == HALF_OPEN:
        s.update(state=OPEN, opened_at=now, failures=[], successes=[])
        return "opened"
    if state == OPEN:
        return OPEN
    failures = [float(t) for t in s.get("failures", []) if float(t) > now - window] + [now]
    successes = [float(t) for t in s.get("successes", []) if float(t) > now - window]
    if len(failures) >= threshold and len(failures) / (len(failures) + len(successes)) >= rate:
        s.update(state=OPEN, opened_at=now, failures=[], successes=[])
        return "opened"
    s["failures"], s["successes"] = failures, successes
    return CLOSED
