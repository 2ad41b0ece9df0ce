"""Shared limiter/breaker state in the database, for the embedded default (no Redis). Each operation runs the
reference algorithm on one row under ``SELECT ... FOR UPDATE`` (PostgreSQL) or SQLite's write lock (the project
opens SQLite transactions IMMEDIATE), so web, worker and beat processes share it.

A call made inside a caller's open transaction holds that row lock until the caller commits; Redis has no such
coupling, which is why production runs with ``REDIS_URL``."""

from __future__ import annotations

import copy

from django.db import IntegrityError, transaction

from . import algorithms as algo
from .algorithms import Reservation, SlotGrant


class DatabaseStore:
    name = "database"

    @staticmethod
    def _model():
        from integrations.models import ProviderAccountState

        return ProviderAccountState

    def _mutate(self, key: str, change):
        model = self._model()
        with transaction.atomic():
            row = model.objects.select_for_update().filter(key=key).first()
            if row is None:
                try:
                    with transaction.atomic():
                        row = model.objects.create(key=key, data={})
                except IntegrityError:  # another process created it first
                    row = model.objects.select_for_update().get(key=key)
            # A deep copy: the algorithms mutate nested state in place (slot holders), and a shallow copy would
            # make ``data != row.data`` false, so a released slot was never saved.
            data = copy.deepcopy(row.data)
            result = change(data)
            if data != row.data:
                row.data = data
                row.save(update_fields=["data", "updated_at"])
        return result

    def _read(self, key: str) -> dict:
        row = self._model().objects.filter(key=key).values_list("data", flat=True).first()
        return dict(row or {})

    # budget ----------------------------------------------------------------------------------------------
    def bucket_reserve(self, key, **kwargs) -> Reservation:
        return self._mutate(f"budget:{key}", lambda s: algo.bucket_reserve(s, **kwargs))

    def bucket_adjust(self, key, **kwargs) -> float:
        return self._mutate(f"budget:{key}", lambda s: algo.bucket_adjust(s, **kwargs))

    def bucket_state(self, key) -> dict:
        return self._read(f"budget:{key}")

    # concurrency slots -----------------------------------------------------------------------------------
    def slot_acquire(self, key, **kwargs) -> SlotGrant:
        return self._mutate(f"slots:{key}", lambda s: algo.slot_acquire(s, **kwargs))

    def slot_release(self, key, *, holder) -> None:
        self._mutate(f"slots:{key}", lambda s: algo.slot_release(s, holder=holder))

    def slots_in_use(self, key, *, now) -> int:
        return sum(1 for expires in self._read(f"slots:{key}").get("holders", {}).values() if expires > now)

    # circuit breaker -------------------------------------------------------------------------------------
    def breaker_before(self, key, **kwargs) -> tuple[str, float]:
        return self._mutate(f"breaker:{key}", lambda s: algo.breaker_before(s, **kwargs))

    def breaker_success(self, key, *, now=None, window=None) -> str:
        # Read first: the common case (closed, no recent failure) needs no write lock at all.
        current = self._read(f"breaker:{key}")
        if current.get("state", algo.CLOSED) == algo.CLOSED and not current.get("failures"):
            return algo.CLOSED
        return self._mutate(f"breaker:{key}", lambda s: algo.breaker_success(s, now=now, window=window))

    def breaker_failure(self, key, **kwargs) -> str:
        return self._mutate(f"breaker:{key}", lambda s: algo.breaker_failure(s, **kwargs))

    def breaker_state(self, key) -> dict:
        data = self._read(f"breaker:{key}")
        state = {"state": data.get("state", algo.CLOSED), "failures": len(data.get("failures", []))}
        if "opened_at" in data:
            state["opened_at"] = float(data["opened_at"])
        return state

    def breaker_states(self, keys) -> dict[str, str]:
        """key -> "closed" / "open" / "half_open" for many accounts in one query (dashboards, metrics)."""
        rows = dict(self._model().objects.filter(key__in=[f"breaker:{k}" for k in keys]).values_list("key", "data"))
        return {k: (rows.get(f"breaker:{k}") or {}).get("state", algo.CLOSED) for k in keys}

    def reset(self, key) -> None:
        self._model().objects.filter(key__in=[f"budget:{key}", f"slots:{key}", f"breaker:{key}"]).delete()
