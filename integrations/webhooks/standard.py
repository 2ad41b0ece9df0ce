"""Standard Webhooks signatures (standardwebhooks.com, the scheme Svix and ShipBob use), verified over the raw
bytes: ``webhook-signature`` holds space-separated ``v1,<base64>`` entries (several during a secret rotation),
each HMAC-SHA256 keyed with the base64-decoded ``whsec_`` secret over ``"<webhook-id>.<webhook-timestamp>.<body>"``;
a timestamp more than ``TOLERANCE`` seconds from now is refused, so a captured delivery cannot be replayed later.
Generic: any provider whose deliveries follow the standard can use it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

TOLERANCE = 5 * 60


def _key(secret: str) -> bytes | None:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = _key(secret) or b""
    return base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()


def verify(body: bytes, headers: Mapping[str, str], secrets: Iterable[str], *, now: float | None = None) -> bool:
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (msg_id and stamp and given):
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE:
        return False
    signatures = [part.split(",", 1)[1] for part in given.split() if part.startswith("v1,")]
    matched = False
    for secret in secrets:
        if not secret or _key(secret) is None:
            continue
        expected = sign(secret, msg_id, timestamp, body).encode()
        for candidate in signatures:
            # Every pair is compared (no early exit), each in constant time.
            matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return matched
