"""Shared limiter/breaker state in Redis (used whenever ``REDIS_URL`` is set). Free of Django so that a bare
process (a test's "crashing worker", the benchmark) can use it too."""

from __future__ import annotations

import uuid

import redis

from . import lua
from .algorithms import Reservation, SlotGrant

PREFIX = "shelfops:http"
BUCKET_TTL = 86400  # an idle account's budget state simply expires


def _s(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _f(raw) -> float:
    return float(raw.decode() if isinstance(raw, bytes) else raw)


class RedisStore:
    name = "redis"

    def __init__(self, url: str | None = None, client: redis.Redis | None = None):
        self.redis = client or redis.Redis.from_url(url, health_check_interval=30)
        self._reserve = self.redis.register_script(lua.BUCKET_RESERVE)
        self._adjust = self.redis.register_script(lua.BUCKET_ADJUST)
        self._slot = self.redis.register_script(lua.SLOT_ACQUIRE)
        self._before = self.redis.register_script(lua.BREAKER_BEFORE)
        self._success = self.redis.register_script(lua.BREAKER_SUCCESS)
        self._failure = self.redis.register_script(lua.BREAKER_FAILURE)

    # keys ------------------------------------------------------------------------------------------------
    @staticmethod
    def _budget(key: str) -> str:
        return f"{PREFIX}:budget:{key}"

    @staticmethod
    def _slots(key: str) -> str:
        return f"{PREFIX}:slots:{key}"

    @staticmethod
    def _breaker(key: str) -> tuple[str, str, str]:
        base = f"{PREFIX}:breaker:{key}"
        return base, f"{base}:failures", f"{base}:successes"

    # budget ----------------------------------------------------------------------------------------------
    def bucket_reserve(self, key, *, now, cost, rate, burst, max_wait, headroom=0.0, reactive=False) -> Reservation:
        granted, wait, tokens = self._reserve(
            keys=[self._budget(key)],
            args=[_s(now), _s(cost), _s(rate), _s(burst), _s(max_wait), _s(headroom), "1" if reactive else "0",
                  BUCKET_TTL],
        )
        return Reservation(bool(granted), _f(wait), _f(tokens) if tokens not in (b"", "") else None)

    def bucket_adjust(self, key, *, now, rate, burst, refund=0.0, cap=None, learn_rate=None, learn_burst=None,
                      block_until=None, slow_until=None, slow_factor=0.5, min_rate=0.1) -> float:
        tokens = self._adjust(
            keys=[self._budget(key)],
            args=[_s(now), _s(rate), _s(burst), _s(refund), _s(cap), _s(learn_rate), _s(learn_burst),
                  _s(block_until), _s(slow_until), _s(slow_factor), _s(min_rate), BUCKET_TTL],
        )
        return _f(tokens)

    def bucket_state(self, key) -> dict:
        raw = self.redis.hgetall(self._budget(key))
        return {k.decode(): _f(v) for k, v in raw.items()}

    # concurrency slots -----------------------------------------------------------------------------------
    def slot_acquire(self, key, *, holder, now, lease, limit) -> SlotGrant:
        granted, wait, in_use = self._slot(keys=[self._slots(key)], args=[_s(now), holder, _s(lease), int(limit)])
        return SlotGrant(bool(granted), _f(wait), int(in_use))

    def slot_release(self, key, *, holder) -> None:
        self.redis.zrem(self._slots(key), holder)

    def slots_in_use(self, key, *, now) -> int:
        return int(self.redis.zcount(self._slots(key), f"({now!r}", "+inf"))

    # circuit breaker -------------------------------------------------------------------------------------
    def breaker_before(self, key, *, now, cooldown, probe_timeout) -> tuple[str, float]:
        decision, wait = self._before(keys=[self._breaker(key)[0]], args=[_s(now), _s(cooldown), _s(probe_timeout)])
        return decision.decode(), _f(wait)

    def breaker_success(self, key, *, now=None, window=None) -> str:
        args = [] if now is None or window is None else [_s(now), _s(window), f"{now!r}:{uuid.uuid4().hex}"]
        return self._success(keys=list(self._breaker(key)), args=args).decode()

    def breaker_failure(self, key, *, now, window, threshold, rate=0.0) -> str:
        member = f"{now!r}:{uuid.uuid4().hex}"
        return self._failure(keys=list(self._breaker(key)),
                             args=[_s(now), _s(window), int(threshold), member, _s(rate)]).decode()

    def breaker_state(self, key) -> dict:
        state_key, failures_key, _successes_key = self._breaker(key)
        raw = {k.decode(): v.decode() for k, v in self.redis.hgetall(state_key).items()}
        state = {"state": raw.get("state", "closed"), "failures": int(self.redis.zcard(failures_key))}
        if "opened_at" in raw:
            state["opened_at"] = float(raw["opened_at"])
        return state

    def breaker_states(self, keys) -> dict[str, str]:
        """key -> "closed" / "open" / "half_open" for many accounts in one round trip (dashboards, metrics)."""
        keys = list(keys)
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hget(self._breaker(key)[0], "state")
        return {k: (v.decode() if v else "closed") for k, v in zip(keys, pipe.execute(), strict=True)}

    def reset(self, key) -> None:
        self.redis.delete(self._budget(key), self._slots(key), *self._breaker(key))
