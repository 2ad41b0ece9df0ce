"""Read-ahead keeps page order, hands a fetch failure to the consumer, and stops fetching when the consumer
stops (a failed ingest must not keep reading the provider)."""

import threading

import pytest

from integrations.sync.prefetch import prefetched


def test_pages_arrive_in_order():
    assert list(prefetched(iter(range(50)), depth=2)) == list(range(50))
    assert list(prefetched(iter(range(5)), depth=0)) == list(range(5))


def test_a_fetch_failure_is_raised_in_the_consumer_after_the_pages_before_it():
    def pages():
        yield 1
        yield 2
        raise RuntimeError("provider down")

    seen = []
    with pytest.raises(RuntimeError, match="provider down"):
        for page in prefetched(pages(), depth=1):
            seen.append(page)
    assert seen == [1, 2]


def test_stopping_the_consumer_stops_the_fetching():
    fetched = []
    closed = threading.Event()

    def pages():
        try:
            for n in range(1000):
                fetched.append(n)
                yield n
        finally:
            closed.set()

    for page in prefetched(pages(), depth=1):
        if page == 3:
            break
    assert closed.wait(5)
    assert len(fetched) <= 6  # at most the read-ahead beyond what was consumed
