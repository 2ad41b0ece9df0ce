"""Streaming downloads from pre-signed URLs on another host (Shopify bulk results on cloud storage).

The URL itself is the credential (a signature and expiry in its query string), so the request carries **no**
provider credentials: no access token, no provider headers, whatever host the URL names. Everything else is the
client's usual care: connect/read timeouts, bounded retries with backoff on 5xx/timeouts/connection errors, a
circuit breaker (per download host, so a storage outage does not block the shop's API calls), and one call-log
row per attempt with the whole query string redacted (signed URLs carry secrets in it).

A connection that breaks mid-file is reopened and the lines already handed out are skipped, so callers see every
line exactly once, in order; the file is read line by line and never held whole.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from . import calllog
from .breaker import CircuitBreaker
from .errors import ProviderError, ProviderUnavailable
from .redaction import REDACTED

log = logging.getLogger("shelfops.http")

NETWORK_ERRORS = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def redact_query(url: str) -> str:
    """The URL without user-info and with the whole query string replaced: fit for a log line or call-log row."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, REDACTED if parts.query else "", ""))


class DownloadMixin:
    """``ProviderClient.download_lines(url, skip=0)``; uses the client's session, config, store, clock, sleep."""

    def download_lines(self, url: str, *, skip: int = 0, retries: int | None = None) -> Iterator[bytes]:
        """Yield the lines (bytes, without line ends; blank lines included) of the file at ``url`` after the
        first ``skip`` lines. Raises ``ProviderUnavailable`` when retries run out, ``ProviderError`` on a 4xx
        (an expired or forged URL is not retried)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ProviderError("a download needs an absolute http(s) URL", provider=self.provider.key)
        attempts = max(1, retries or self.config.max_attempts)
        breaker = CircuitBreaker(self.store, f"download:{parts.netloc}", clock=self.clock, config=self.config,
                                 provider=self.provider.key, label=f"downloads from {parts.netloc}")
        logged = redact_query(url)
        position, reopened = skip, 0  # lines handed out (or skipped) so far; reopenings after a mid-file break
        progress = {"attempt": 0, "reason": ""}
        while True:
            retrying = Retrying(stop=stop_after_attempt(attempts), wait=self._wait, sleep=self.sleep, reraise=True,
                                retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and e.retryable))
            response = retrying(self._open_download, url, logged, breaker, progress)
            seen = 0
            try:
                with response:
                    for raw in response.iter_lines():
                        seen += 1
                        if seen <= position:
                            continue
                        position += 1
                        yield raw
                return
            except NETWORK_ERRORS as exc:
                breaker.record_failure("connection broken mid-download")
                reopened += 1
                log.warning("download %s broke after %d lines (%s); reopening (%d/%d)", logged, position,
                            type(exc).__name__, reopened, attempts - 1)
                if reopened >= attempts:
                    raise ProviderUnavailable(f"download broke {reopened} times", provider=self.provider.key) from exc
                progress["reason"] = f"broken after {position} lines"
                self.sleep(self._backoff(reopened))

    def _open_download(self, url: str, logged: str, breaker: CircuitBreaker, progress: dict) -> requests.Response:
        progress["attempt"] += 1
        breaker.before_call()
        started = time.monotonic()
        response = failure = None
        try:
            # No credentials: only the URL's own signature authorises this request.
            response = self.session.get(url, stream=True, headers={"Accept": "*/*"}, allow_redirects=True,
                                        timeout=(self.config.connect_timeout, self.config.read_timeout))
            status = response.status_code
            if status >= 500:
                breaker.record_failure(f"HTTP {status}")
                failure = ProviderUnavailable(f"HTTP {status}", status=status, provider=self.provider.key)
            elif status >= 400:  # expired, forged or missing: retrying cannot help
                breaker.record_success()
                failure = ProviderError(f"HTTP {status} from the download host", status=status,
                                        provider=self.provider.key)
            else:
                breaker.record_success()
        except NETWORK_ERRORS as exc:
            kind = "timeout" if isinstance(exc, requests.Timeout) else "connection error"
            breaker.record_failure(kind)
            failure = ProviderUnavailable(kind, provider=self.provider.key)
        calllog.write(calllog.AttemptRecord(
            provider=self.provider.key, account=self.account_key, method="GET", url=logged,
            attempt=progress["attempt"], duration_ms=int((time.monotonic() - started) * 1000),
            status=response.status_code if response is not None else None, retry_reason=progress["reason"],
            request_id=calllog.request_id_of(response, self.provider.request_id_headers),
            error=str(failure) if failure else ""), self.connection)
        if failure is not None:
            if response is not None:
                response.close()
            progress["reason"] = f"HTTP {failure.status}" if failure.status else type(failure).__name__
            raise failure
        return response
