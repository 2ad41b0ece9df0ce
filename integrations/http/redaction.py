"""Removing secrets from what the client writes down (call log rows, log lines, error text).

The call log stores the URL only, never headers or bodies; URLs can still carry secrets in their query string
(OAuth ``code``, ``access_token``, Shopify ``hmac``/``signature``, ``client_secret``...) or in user-info, so both
are masked. Error text taken from a provider answer goes through :func:`redact_text`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[REDACTED]"

# Query parameter names whose values are secrets: exact names, and any name ending in a secret-ish word
# (``shop_access_token``, ``x-api-key``), matched case-insensitively.
SECRET_NAMES = {"code", "state", "hmac", "signature", "sig", "key", "session", "assertion", "password"}
SECRET_SUFFIX = re.compile(
    r"(^|_|-)(token|secret|password|passwd|signature|verifier|assertion|api[_-]?key|hmac)$", re.IGNORECASE
)

# Secret-looking fragments in free text: "Bearer xyz", "Client xyz", JSON/form fields named like secrets.
_TEXT_PATTERNS = [
    re.compile(r"(?i)\b(Bearer|Basic|Client)\s+[A-Za-z0-9._~+/=\-]{6,}"),
    re.compile(
        r"""(?i)(["']?(?:access_token|refresh_token|client_secret|code_verifier|code|password|signature|hmac"""
        r"""|client_assertion|subject_token|token)["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s&,}]+)"""
    ),
]


def is_secret_param(name: str) -> bool:
    return name.lower() in SECRET_NAMES or bool(SECRET_SUFFIX.search(name))


def redact_url(url: str) -> str:
    """The URL with secret query values and any user-info replaced by ``[REDACTED]``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if is_secret_param(k) else v) for k, v in pairs], safe="[]:,/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Masks known secret values (``secrets``) and secret-looking fragments in provider-supplied text."""
    if not text:
        return text
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, REDACTED)
    text = _TEXT_PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _TEXT_PATTERNS[1].sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text
