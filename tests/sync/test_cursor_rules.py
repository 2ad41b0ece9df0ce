"""The cursor rules: newest updated_at seen minus the overlap, never moving backwards; unordered streams keep the
run's lower bound and a page token until the run completes."""

from datetime import UTC, datetime, timedelta

from integrations.sync.streams import Watermark, format_time, parse_time

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
OVERLAP = timedelta(minutes=5)


def test_ordered_stream_moves_the_bound_after_every_page():
    mark = Watermark(None, OVERLAP, ordered=True)
    mark.observe(T0)
    mark.observe(T0 - timedelta(hours=1))
    assert mark.after_page("opaque-next-token") == {
        "updated_at": "2026-10-01T11:55:00.000Z", "page": None, "high_water": "2026-10-01T12:00:00.000Z"}


def test_unordered_stream_keeps_its_lower_bound_and_saves_the_page_token_until_the_end():
    mark = Watermark({"updated_at": "2026-09-30T00:00:00Z"}, OVERLAP, ordered=False)
    mark.observe(T0)
    mid = mark.after_page({"location": "5", "after": "abc"})
    assert mid["updated_at"] == "2026-09-30T00:00:00.000Z" and mid["page"] == {"location": "5", "after": "abc"}
    assert mark.final()["updated_at"] == "2026-10-01T11:55:00.000Z" and mark.final()["page"] is None


def test_resumed_run_restores_page_token_and_high_water():
    saved = {"updated_at": "2026-09-30T00:00:00.000Z", "page": "tok", "high_water": "2026-10-01T12:00:00.000Z"}
    mark = Watermark(saved, OVERLAP, ordered=False)
    assert mark.resume_page == "tok" and mark.high_water == T0
    assert mark.final()["updated_at"] == "2026-10-01T11:55:00.000Z"


def test_bound_never_moves_backwards_and_empty_runs_keep_it():
    mark = Watermark({"updated_at": "2026-10-01T11:58:00.000Z"}, OVERLAP, ordered=True)
    assert mark.final()["updated_at"] == "2026-10-01T11:58:00.000Z"
    mark.observe(T0)  # newest seen minus overlap (11:55) is older than the bound: keep the bound
    assert mark.final()["updated_at"] == "2026-10-01T11:58:00.000Z"


def test_time_format_floors_to_milliseconds_in_utc():
    value = datetime(2026, 10, 1, 14, 0, 0, 123999, tzinfo=UTC)
    assert format_time(value) == "2026-10-01T14:00:00.123Z"
    assert parse_time("2026-10-01T16:00:00.123+02:00") == datetime(2026, 10, 1, 14, 0, 0, 123000, tzinfo=UTC)
    assert parse_time(None) is None
