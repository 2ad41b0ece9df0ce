"""Structured logs: JSON lines in production, readable text locally, every line redacted.

All stdlib loggers (Django, Celery, gunicorn's error log, ours) go through one ``structlog`` ProcessorFormatter,
so a request id, a run, a connection or an event bound with :func:`log_context` appears on every line written
inside it, and the redaction below runs on every line whatever logger wrote it: OAuth query values (``code``,
``state``, ``hmac``...), bearer tokens, JSON token fields and the configured secrets themselves.
"""

from __future__ import annotations

import contextlib
import logging
import re

import structlog
from django.conf import settings

from integrations.http.redaction import REDACTED, is_secret_param, redact_text

# key=value pairs in URLs and form bodies: a secret-named key's value is masked.
_QUERY_PAIR = re.compile(r"(?<=[?&;])([A-Za-z0-9_.\-\[\]]+)=([^&\s\"'<>;]*)")
SECRET_SETTINGS = ("SECRET_KEY", "METRICS_TOKEN", "FERNET_KEYS")


_secrets_cache: dict[int, list[str]] = {}


def _configured_secrets() -> list[str]:
    # Computed once per settings object (override_settings in tests swaps it), not on every log line.
    key = id(getattr(settings, "_wrapped", settings))
    cached = _secrets_cache.get(key)
    if cached is None:
        cached = _secrets_cache[key] = _read_secrets()
        if len(_secrets_cache) > 64:
            _secrets_cache.clear()
    return cached


def _read_secrets() -> list[str]:
    values: list[str] = []
    for name in dir(settings):
        if name in SECRET_SETTINGS or name.endswith(("_CLIENT_SECRET", "_SIGNATURE_KEY", "_API_KEY", "_PASSWORD")):
            value = getattr(settings, name, "")
            values.extend(v for v in (value if isinstance(value, list | tuple) else [value])
                          if isinstance(v, str) and len(v) >= 6)
    return sorted(set(values), key=len, reverse=True)


def redact_query_values(text: str) -> str:
    """Masks secret-named ``key=value`` pairs (``?code=...&state=...&hmac=...``) and secret-looking fragments;
    needs no settings, so gunicorn's access log can use it too."""
    if not text:
        return text
    text = _QUERY_PAIR.sub(lambda m: f"{m.group(1)}={REDACTED}" if is_secret_param(m.group(1)) else m.group(0), text)
    return redact_text(text)


def redact_line(text: str) -> str:
    if not text:
        return text
    return redact_text(redact_query_values(text), _configured_secrets())


def redact_processor(logger, method_name, event_dict):
    if event_dict.get("message") == event_dict.get("event"):
        del event_dict["message"]  # ExtraAdder copies the formatted message; keep it once, under "event"
    for key, value in list(event_dict.items()):
        if value is None:
            del event_dict[key]  # ids a block reserved (log_context) but never filled in
        elif isinstance(value, str):
            event_dict[key] = redact_line(value)
        elif value is not None and not isinstance(value, int | float | bool):
            event_dict[key] = redact_line(str(value))
    return event_dict


# Extras Django attaches that repeat the message (the request line) or are objects (a socket): left out.
NOISE = ("request", "server_time")


def drop_noise(logger, method_name, event_dict):
    for key in NOISE:
        event_dict.pop(key, None)
    return event_dict


PRE_CHAIN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    drop_noise,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def build_formatter(json: bool = False) -> structlog.stdlib.ProcessorFormatter:
    """The logging formatter (``LOGGING`` names it with ``"()"``): JSON lines or aligned text."""
    configure_structlog()
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=PRE_CHAIN,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_processor,  # last before rendering: tracebacks and extras are redacted too
            renderer,
        ],
    )


def configure_structlog() -> None:
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[*PRE_CHAIN, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


@contextlib.contextmanager
def log_context(**ids):
    """Binds ids (run_id, connection_id, event_id...) to every log line written inside the block. A key passed
    as None is reserved: :func:`bind` may fill it in later inside the block, and it is unbound on leaving."""
    with structlog.contextvars.bound_contextvars(**ids):
        yield


def bind(**ids) -> None:
    structlog.contextvars.bind_contextvars(**ids)


def bind_request(request_id: str) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)


def clear() -> None:
    structlog.contextvars.clear_contextvars()


log = logging.getLogger("shelfops.console")
