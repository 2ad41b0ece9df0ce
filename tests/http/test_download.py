"""``client.download_lines``: pre-signed URLs on another host, no credentials sent, resilient, redacted call log."""

from __future__ import annotations

import io
import logging
import uuid

import pytest
import responses
from urllib3.exceptions import ProtocolError

from integrations.http.errors import CircuitOpen, ProviderError, ProviderUnavailable
from integrations.models import ApiCallLog

from .conftest import ACCESS_TOKEN

pytestmark = pytest.mark.django_db

SIGNATURE = "5f0c1a9e" * 8
LINES = [b'{"id":"gid://shopify/Order/1"}', b'{"id":"gid://shopify/LineItem/1","__parentId":"gid://shopify/Order/1"}',
         b'{"id":"gid://shopify/Order/2"}']


@pytest.fixture
def URL():  # noqa: N802 (a constant per test: each test gets its own host, so its own download breaker)
    return (f"https://{uuid.uuid4().hex[:12]}.storage.example.net/bulk/4000/final.jsonl?X-Goog-Algorithm=GOOG4-RSA-"
            f"SHA256&X-Goog-Credential=svc%40example&X-Goog-Expires=604800&X-Goog-Signature={SIGNATURE}")


def body(lines=LINES) -> bytes:
    return b"\n".join(lines) + b"\n"


class _Breaks(io.RawIOBase):
    """Sends ``data[:cut]``, then the connection is lost."""

    def __init__(self, data: bytes, cut: int):
        self.data, self.cut, self.sent = data, cut, False

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.sent:
            raise ProtocolError("Connection broken: IncompleteRead")
        self.sent = True
        chunk = self.data[: self.cut]
        buffer[: len(chunk)] = chunk
        return len(chunk)


def breaks_after(data: bytes, cut: int) -> io.BufferedReader:
    return io.BufferedReader(_Breaks(data, cut))


@responses.activate
def test_lines_stream_with_no_credentials_and_signed_query_redacted(URL, make_connection, client_factory, caplog):
    caplog.set_level(logging.DEBUG)
    conn = make_connection("shopify")
    responses.get(URL, body=body())
    lines = list(client_factory(conn).download_lines(URL))
    assert lines == LINES
    sent = responses.calls[0].request
    assert not {"Authorization", "X-Shopify-Access-Token"} & set(sent.headers)
    assert ACCESS_TOKEN not in str(sent.headers)
    assert sent.req_kwargs["timeout"] and sent.req_kwargs["stream"] is True
    [row] = ApiCallLog.objects.filter(connection=conn)
    assert row.url == URL.split("?")[0] + "?[REDACTED]" and row.status_code == 200
    assert SIGNATURE not in caplog.text and "svc%40example" not in row.url


@responses.activate
def test_5xx_and_timeouts_are_retried_with_a_row_per_attempt(URL, make_connection, client_factory, clock):
    import requests

    conn = make_connection("shopify")
    responses.get(URL, status=503)
    responses.get(URL, body=requests.ReadTimeout("read timed out"))
    responses.get(URL, body=body())
    assert list(client_factory(conn).download_lines(URL, skip=1)) == LINES[1:]
    rows = list(ApiCallLog.objects.filter(connection=conn).order_by("attempt"))
    assert [(r.attempt, r.status_code, r.retry_reason) for r in rows] == [
        (1, 503, ""), (2, None, "HTTP 503"), (3, 200, "ProviderUnavailable")]
    assert len(clock.sleeps) == 2


@responses.activate
def test_expired_url_is_a_4xx_error_not_retried(URL, make_connection, client_factory):
    conn = make_connection("shopify")
    responses.get(URL, status=400, body="<Error><Code>ExpiredToken</Code></Error>")
    with pytest.raises(ProviderError) as err:
        list(client_factory(conn).download_lines(URL))
    assert err.value.status == 400 and not isinstance(err.value, ProviderUnavailable)
    assert len(responses.calls) == 1 and SIGNATURE not in str(err.value)


@responses.activate
def test_a_connection_broken_mid_file_resumes_after_the_lines_already_read(URL, make_connection, client_factory):
    conn = make_connection("shopify")
    many = [b'{"id":"gid://shopify/ProductVariant/%d"}' % i for i in range(200)]
    data = body(many)
    responses.get(URL, body=breaks_after(data, 2000))
    responses.get(URL, body=data)
    lines = client_factory(conn).download_lines(URL)
    assert [next(lines) for _ in range(5)] == many[:5]  # handed out before the break
    assert list(lines) == many[5:]  # each line once, in order
    assert len(responses.calls) == 2
    [reopened] = ApiCallLog.objects.filter(connection=conn, attempt=2)
    assert reopened.retry_reason.startswith("broken after ") and reopened.retry_reason != "broken after 0 lines"


@responses.activate
def test_breaker_is_per_download_host_and_opens_on_repeated_failures(URL, make_connection, client_factory):
    conn = make_connection("shopify")
    responses.get(URL, status=502)
    client = client_factory(conn)
    with pytest.raises(CircuitOpen):
        list(client.download_lines(URL))  # 3 failures (HTTP_BREAKER_FAILURES) open it; the 4th try is refused
    assert len(responses.calls) == 3
    with pytest.raises(CircuitOpen):
        list(client.download_lines(URL))
    assert len(responses.calls) == 3
    assert client.breaker.state()["state"] == "closed"  # the shop's API calls are not blocked


def test_only_absolute_http_urls(make_connection, client_factory):
    with pytest.raises(ProviderError):
        list(client_factory(make_connection("shopify")).download_lines("file:///etc/passwd"))
