"""``record(...)``: write one audit entry. ``audited(...)``: a context manager that writes one entry for the
action it wraps, a success when the block ends normally and a failure (with the error's class) when it raises.

Entries are written on the caller's database connection, so inside the action's transaction they commit or roll
back with it. Details never hold secrets: keys that name one are replaced before the row is written.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

from django.db import transaction

from .addresses import client_ip
from .models import AuditEntry

SECRET_KEY_PATTERN = re.compile(r"token|secret|password|signature|code|state|key|verifier", re.IGNORECASE)
REDACTED = "[redacted]"


def _clean(details: dict) -> dict:
    """JSON-safe and secret-free: values under secret-sounding keys are replaced, others stringified if odd."""
    out = {}
    for key, value in details.items():
        if SECRET_KEY_PATTERN.search(str(key)):
            out[key] = REDACTED
        elif isinstance(value, dict):
            out[key] = _clean(value)
        elif value is None or isinstance(value, bool | int | float | str):
            out[key] = value
        elif isinstance(value, list | tuple):
            out[key] = [v if isinstance(v, bool | int | float | str) else str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def _actor_fields(actor, request) -> dict:
    from django.contrib.auth import get_user_model

    from inventory.models import ApiToken

    if actor is None and request is not None:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiToken):
            actor = auth
        else:
            user = getattr(request, "user", None)
            actor = user if user is not None and user.is_authenticated else None
    if isinstance(actor, ApiToken):
        return {"actor_token": actor, "actor_label": f"API token {actor.name} ({actor.prefix}…)"}
    if isinstance(actor, get_user_model()):
        return {"actor_user": actor, "actor_label": actor.get_username()}
    if isinstance(actor, str) and actor:
        return {"actor_label": actor}
    return {"actor_label": "anonymous"}


def record(action: str, *, actor=None, retailer=None, connection=None, outcome: str = AuditEntry.Outcome.SUCCESS,
           request=None, **details) -> AuditEntry:
    """Write one entry. ``actor``: a user, an ``ApiToken``, a label such as ``"command rotate_fernet_keys"``, or
    None to take it from ``request`` (``request.auth`` token, else ``request.user``). ``retailer`` defaults to the
    connection's."""
    if retailer is None and connection is not None:
        retailer = connection.retailer
    return AuditEntry.objects.create(
        action=action,
        outcome=outcome,
        retailer=retailer,
        connection=connection,
        connection_label=str(connection)[:200] if connection is not None else "",
        ip_address=client_ip(request),
        details=_clean(details),
        **_actor_fields(actor, request),
    )


@dataclass
class Pending:
    """What the wrapped block may add before the entry is written: more details, or a different outcome."""

    details: dict = field(default_factory=dict)
    outcome: str | None = None

    def note(self, **details) -> None:
        self.details.update(details)

    def fail(self, **details) -> None:
        self.outcome = AuditEntry.Outcome.FAILURE
        self.details.update(details)


@contextlib.contextmanager
def audited(action: str, *, atomic: bool = False, **kwargs):
    """Record one entry for the wrapped block. With ``atomic=True`` the block runs in a transaction and the success
    entry is written inside it (it commits or rolls back with the action), while a failure entry is written after
    the rollback, so a failed action still leaves its trace."""
    pending = Pending(details={k: kwargs.pop(k) for k in list(kwargs) if k not in _RECORD_ARGS})
    try:
        with transaction.atomic() if atomic else contextlib.nullcontext():
            yield pending
            outcome = pending.outcome or AuditEntry.Outcome.SUCCESS
            record(action, **kwargs, **pending.details, outcome=outcome)
    except Exception as exc:
        record(action, **kwargs, **{**pending.details, "error": exc.__class__.__name__},
               outcome=AuditEntry.Outcome.FAILURE)
        raise


def common_retailer(queryset, path: str = "retailer"):
    """The one retailer every row of ``queryset`` belongs to (through ``path``), or None when they span several:
    a bulk action over many tenants is a staff-wide entry, shown to no single merchant."""
    ids = set(queryset.order_by().values_list(f"{path}_id" if "__" not in path else f"{path}__id", flat=True)
              .distinct()[:2])
    if len(ids) != 1 or None in ids:
        return None
    from inventory.models import Retailer

    return Retailer.objects.filter(pk=ids.pop()).first()


_RECORD_ARGS = {"actor", "retailer", "connection", "request"}
