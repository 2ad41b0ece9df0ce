import pytest

from integrations.templatetags.portal import every


@pytest.mark.parametrize("seconds, words", [
    (86400, "every day"), (3600, "every hour"), (900, "every 15 minutes"), (5400, "every 90 minutes"),
    (172800, "every 2 days"), (45, "every 45 seconds"), ("junk", ""),
])
def test_schedule_intervals_read_as_words(seconds, words):
    assert every(seconds) == words
