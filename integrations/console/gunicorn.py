"""gunicorn's access log without secrets: the request line, query string, referer and credential headers are
redacted before any format sees them (gunicorn logs ``?code=...&state=...&hmac=...`` verbatim otherwise).
In production (``SHELFOPS_ENV=production``, or ``LOG_JSON=true``) each access line is one JSON object, like the
application's logs.
Enabled by ``gunicorn.conf.py`` (``logger_class``)."""

from __future__ import annotations

import json
import os

from gunicorn.glogging import Logger

from integrations.http.redaction import REDACTED

from .logs import redact_query_values

SECRET_HEADERS = ("authorization", "cookie", "x-api-key", "proxy-authorization")
# gunicorn's master never loads Django or the provider registry, so webhook signature headers are recognised by
# their name: every provider's signature or HMAC header has one of these words in it.
SECRET_HEADER_WORDS = ("signature", "hmac")


def is_secret_header(name: str) -> bool:
    name = name.lower()
    return name in SECRET_HEADERS or any(word in name for word in SECRET_HEADER_WORDS)


def json_lines() -> bool:
    # The same switch as settings.LOG_JSON, read from the environment: gunicorn's master never loads settings.
    flag = os.environ.get("LOG_JSON", "").strip().lower()
    if flag:
        return flag in ("1", "true", "yes", "on")
    return os.environ.get("SHELFOPS_ENV", "local") == "production"


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "f", "U"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_query_values(atoms[key])
        for key in list(atoms):
            if key.startswith("{") and key.endswith("}i") and is_secret_header(key[1:-2]):
                atoms[key] = REDACTED
            elif key == "{set-cookie}o":
                atoms[key] = REDACTED
        return atoms

    def access(self, resp, req, environ, request_time):
        if not json_lines() or not self.access_log_enabled:
            return super().access(resp, req, environ, request_time)
        a = self.atoms(resp, req, environ, request_time)
        line = {
            "event": "request", "logger": "gunicorn.access", "level": "info", "remote": a["h"], "method": a["m"],
            "path": a["U"], "query": a["q"], "status": a["s"], "bytes": a["B"], "duration_ms": a["M"],
            "referer": a["f"], "user_agent": a["a"], "request_id": a.get("{x-request-id}o", ""),
        }
        self.access_log.info(json.dumps(line, default=str))
