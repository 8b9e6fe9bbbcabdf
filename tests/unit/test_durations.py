from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.domain.durations import (
    format_duration,
    format_point_in_time,
    parse_duration,
    parse_point_in_time,
)
from packyard.domain.errors import InvalidInput

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0s", timedelta(0)),
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("1h", timedelta(hours=1)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("90s", timedelta(seconds=90)),
        ("007d", timedelta(days=7)),
        ("36500d", timedelta(days=36500)),
    ],
)
def test_parse_duration_reads_number_and_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "3", "d", "3x", "3D", "-3d", "+3d", "1.5h", "3 d", " 3d", "3d ", "3d\n", "1h30m", "٣d"],
)
def test_parse_duration_refuses_anything_else_with_the_format(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_duration(text)
    assert str(info.value) == f"{text!r} is not a duration: use <number><s|m|h|d|w>, e.g. 3d"


@pytest.mark.parametrize("text", ["36501d", "5215w", "1000000000d", "99999999999999999999s"])
def test_parse_duration_refuses_more_than_a_century(text: str) -> None:
    with pytest.raises(InvalidInput, match="too long a duration: at most 36500d"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "90s"),
        (timedelta(seconds=259200), "3d"),
        (timedelta(minutes=10), "10m"),
        (timedelta(hours=25), "25h"),
        (timedelta(days=14), "2w"),
        (timedelta(days=10), "10d"),
        (timedelta(seconds=3601), "3601s"),
    ],
)
def test_format_duration_uses_the_largest_exact_unit(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected


@pytest.mark.parametrize("delta", [timedelta(seconds=-1), timedelta(milliseconds=1500)])
def test_format_duration_refuses_what_cannot_be_spelled(delta: timedelta) -> None:
    with pytest.raises(ValueError, match="not a whole, non-negative number of seconds"):
        format_duration(delta)


@given(st.integers(min_value=0, max_value=36500 * 86400))
def test_format_duration_is_the_inverse_of_parse_duration(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", _utc(2024, 5, 1)),
        ("2024-05-01T12:00:00Z", _utc(2024, 5, 1, 12)),
        ("2024-05-01t12:00:00z", _utc(2024, 5, 1, 12)),
        ("2024-05-01 12:00:00Z", _utc(2024, 5, 1, 12)),
        ("2024-05-01T12:00:00+02:00", _utc(2024, 5, 1, 10)),
        ("2024-05-01T00:30:00-01:00", _utc(2024, 5, 1, 1, 30)),
        ("2024-05-01T12:00:00.5Z", _utc(2024, 5, 1, 12, 0, 0, 500000)),
        ("2024-05-01T12:00:00.123456Z", _utc(2024, 5, 1, 12, 0, 0, 123456)),
        ("2024-02-29", _utc(2024, 2, 29)),
    ],
)
def test_parse_point_in_time_reads_rfc_3339_and_dates_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_point_in_time(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is not a point in time"),
        ("yesterday", "is not a point in time"),
        ("2024-05-01T12:00:00", "is not a point in time"),  # no offset: whose noon?
        ("2024-05-01T12:00Z", "is not a point in time"),
        ("20240501", "is not a point in time"),
        ("2024-W18-3", "is not a point in time"),
        ("2024-05-01T12:00:00+0200", "is not a point in time"),
        ("1714564800", "is not a point in time"),
        ("2024-13-01", "is not a valid point in time"),
        ("2023-02-29", "is not a valid point in time"),
        ("2024-05-01T24:00:00Z", "is not a valid point in time"),
        ("2024-05-01T12:00:60Z", "is not a valid point in time"),
    ],
)
def test_parse_point_in_time_refuses_other_forms_with_an_example(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_point_in_time(text)
    assert str(info.value) == (
        f"{text!r} {problem}: use an RFC 3339 time such as 2024-05-01T12:00:00Z "
        "or a date such as 2024-05-01"
    )


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (_utc(2024, 5, 1, 10), "2024-05-01T10:00:00Z"),
        (_utc(2024, 5, 1, 10, 0, 0, 5), "2024-05-01T10:00:00.000005Z"),
        (datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2))), "2024-05-01T10:00:00Z"),
    ],
)
def test_format_point_in_time_is_utc_with_z(moment: datetime, expected: str) -> None:
    assert format_point_in_time(moment) == expected


def test_format_point_in_time_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        format_point_in_time(datetime(2024, 5, 1))


@given(st.datetimes(timezones=st.just(UTC)))
def test_format_point_in_time_is_the_inverse_of_parse_point_in_time(moment: datetime) -> None:
    assert parse_point_in_time(format_point_in_time(moment)) == moment
