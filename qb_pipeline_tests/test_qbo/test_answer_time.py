"""answer_time: the server's time of an answer, from the envelope shapes QBO sends."""

from datetime import UTC, datetime

from qb_pipeline.qbo.client import answer_time


def test_iso_time_with_offset_becomes_utc() -> None:
    moment = answer_time({"time": "2020-09-29T08:02:53.512-07:00"})
    assert moment == datetime(2020, 9, 29, 15, 2, 53, 512000, tzinfo=UTC)


def test_epoch_milliseconds_on_faults() -> None:
    assert answer_time({"time": 1601391072830}) == datetime(
        2020, 9, 29, 14, 51, 12, 830000, tzinfo=UTC
    )


def test_missing_unreadable_or_naive_times_are_none() -> None:
    assert answer_time({}) is None
    assert answer_time({"time": "yesterday"}) is None
    assert answer_time({"time": "2020-09-29T08:02:53"}) is None
    assert answer_time({"time": True}) is None
