"""Typed errors of the resilient client. Provider code catches these, never raw ``requests`` exceptions.

``retryable`` is an internal hint for the client's retry loop (tenacity); callers only see the final error, whose
``retry_after`` (seconds) tells a task when trying again makes sense.
"""

from __future__ import annotations


class ProviderError(Exception):
    """The provider answered with an error (or could not be reached, in the subclasses).

    ``codes`` are the provider's own error codes (Square ``errors[].code``, Shopify ``errors``/GraphQL
    ``extensions.code``, NetSuite ``o:errorDetails[].o:errorCode``); ``detail`` is human text, never a secret.
    """

    retryable = False

    def __init__(self, detail: str = "", *, status: int | None = None, codes: list[str] | tuple[str, ...] = (),
                 provider: str = "", retry_after: float | None = None):
        self.detail = detail
        self.status = status
        self.codes = list(codes)
        self.provider = provider
        self.retry_after = retry_after
        super().__init__(self._message())

    def _message(self) -> str:
        parts = [self.provider or "provider"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.codes:
            parts.append(",".join(self.codes))
        head = " ".join(parts)
        return f"{head}: {self.detail}" if self.detail else head


class ProviderAuthError(ProviderError):
    """The credentials were refused (401, revoked/expired token, missing scopes): the connection needs a refresh
    or a reconnect. Retried once by the client after a forced token refresh."""

    def __init__(self, *args, retryable: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.retryable = retryable


class ProviderRateLimited(ProviderError):
    """The provider throttled us (429, GraphQL THROTTLED, NetSuite pool full), or our own shared budget would
    make us wait longer than the configured maximum. ``retry_after`` says when to come back."""

    def __init__(self, *args, retryable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.retryable = retryable


class ProviderUnavailable(ProviderError):
    """The provider is down for us: connection errors, timeouts or 5xx after every retry, or the account's
    circuit breaker is open."""

    def __init__(self, *args, retryable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.retryable = retryable


class CircuitOpen(ProviderUnavailable):
    """The account's circuit breaker is open: no request was sent. Never retried inside the client."""

    def __init__(self, *args, **kwargs):
        kwargs["retryable"] = False
        super().__init__(*args, **kwargs)
