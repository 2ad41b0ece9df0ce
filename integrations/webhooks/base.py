"""What a provider's ``webhooks.py`` supplies to the shared inbox: a verifier over the raw bytes, an envelope reader
(event id, topic, account), the headers that must never be stored, and one handler per topic the portal uses.

The receive view and the worker only talk to ``WebhookReceiver``; they never branch on a provider key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from integrations.models import Connection, WebhookEvent
    from inventory.records import Source

# Never stored, logged or shown: signatures of any provider plus credentials a proxy might forward.
ALWAYS_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


def hmac_sha256_base64(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()).decode("ascii")


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of two base64 signatures (as ASCII bytes, so non-ASCII input cannot raise)."""
    return hmac.compare_digest(expected.encode("ascii"), given.strip().encode("utf-8", "replace"))


class PermanentWebhookError(Exception):
    """The event can never be processed as it stands (malformed payload, missing fields): fail it without
    retrying. Staff can fix the cause and replay it."""


@dataclass(frozen=True)
class Envelope:
    """What the inbox needs to store a delivery before processing it."""

    event_id: str
    topic: str
    account_id: str
    # Set when the body could not be read as the provider's envelope; the row is stored as failed with it.
    parse_error: str = ""


@dataclass
class HandlerResult:
    status: str = "processed"  # processed | ignored
    outcome: str = ""


@dataclass
class WebhookContext:
    """Everything a topic handler gets: the stored row, its connection, the parsed payload and the ingest source."""

    event: WebhookEvent
    connection: Connection
    payload: dict[str, Any]
    source: Source
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[WebhookContext], HandlerResult]
# A batch hook takes the contexts of one connection's events that share the hook (in receipt order) and returns one
# entry per context: its HandlerResult, or the exception that fails (or retries) that event alone. Raising instead
# means "the group as a whole failed": the worker rolls the group back and runs each event's own handler.
BatchHandler = Callable[[list[WebhookContext]], list[HandlerResult | BaseException]]


class WebhookReceiver(ABC):
    provider_key: str = ""
    signature_header: str = ""  # lower-case
    secret_headers: frozenset[str] = frozenset()  # lower-case names dropped before storage
    handlers: Mapping[str, Handler] = {}
    # Optional: topics whose events can be handled many at a time (one provider fetch, one bulk ingest). A topic
    # listed here must also have its per-event handler above (replay and the per-event fallback use it).
    batch_handlers: Mapping[str, BatchHandler] = {}
    # True when the provider's signing secret is per subscription and the URL names it in one more path segment
    # (``/webhooks/<provider>/<subscription>/``); verify() and envelope() then get ``subscription=``.
    subscription_segments: bool = False
    # Topics handled even when the connection is no longer active (compliance, uninstall).
    topics_after_disconnect: frozenset[str] = frozenset()

    @abstractmethod
    def verify(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """True when the signature over the raw bytes is valid. Must compare in constant time."""

    @abstractmethod
    def envelope(self, raw_body: bytes, payload: Any, headers: Mapping[str, str]) -> Envelope:
        """Event id, topic and account of a verified delivery. ``payload`` is the parsed JSON, or None when the
        body is not JSON (the envelope then carries a ``parse_error``)."""

    def given_signature(self, headers: Mapping[str, str]) -> str:
        return headers.get(self.signature_header, "")

    def storable_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        drop = ALWAYS_SECRET_HEADERS | self.secret_headers | {self.signature_header}
        return {k.lower(): v for k, v in headers.items() if k.lower() not in drop}

    def handler_for(self, topic: str) -> Handler | None:
        return self.handlers.get(topic)

    def batch_handler_for(self, topic: str) -> BatchHandler | None:
        return self.batch_handlers.get(topic) if topic in self.handlers else None


def describe_counts(counts) -> str:
    """Ingest counts as the row's outcome. Records ingest refused (``counts.errors``) fail the event instead, with
    the reasons on the row, so nothing is dropped silently; the savepoint undoes the rest until a replay."""
    if counts.errors:
        raise PermanentWebhookError("ingest refused records: " + "; ".join(counts.errors[:5]))
    text = f"created {counts.created}, updated {counts.updated}, unchanged {counts.unchanged}, held {counts.held}"
    return text + (f", removed {counts.removed}" if counts.removed else "")


def body_fingerprint(raw_body: bytes) -> str:
    """A stable stand-in event id for deliveries whose own id cannot be read (malformed body), so a provider's
    retries of the same broken body still dedupe."""
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


_receivers: dict[str, WebhookReceiver | None] = {}


def receiver_for(provider_key: str) -> WebhookReceiver | None:
    """The provider's receiver (``integrations.providers.<key>.webhooks.receiver``), or None when the provider
    takes no webhooks. Imported lazily so providers without webhooks need nothing."""
    if provider_key not in _receivers:
        from integrations.providers.registry import UnknownProvider, get_provider

        name = f"integrations.providers.{provider_key}.webhooks"
        try:
            get_provider(provider_key)
            module = import_module(name)
        except UnknownProvider:
            module = None
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a broken import inside the module is a bug, not "no webhooks"
                raise
            module = None
        _receivers[provider_key] = getattr(module, "receiver", None)
    return _receivers[provider_key]
