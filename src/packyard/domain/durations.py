"""Durations (`3d`) and points in time (RFC 3339 or a date) as users type them.

One spelling everywhere (`--ttl`, `--min-age`, `--expires`, the `+as-of/` URL), so the
parsers live here and every entry point reports mistakes in the same words.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from packyard.domain.errors import InvalidInput

# Largest unit first: format_duration picks the first that divides exactly.
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
# [0-9], not \d: \d also matches other scripts' digits, which int() would then accept.
_DURATION = re.compile(r"([0-9]+)([smhdw])")
# RFC 3339 section 5.6; the separator may be 't' or a space (its note), the 'Z' lower-case.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_EXAMPLE = "use an RFC 3339 time such as 2024-05-01T12:00:00Z or a date such as 2024-05-01"


MAX_DURATION_SECONDS = 36500 * 86400


def parse_duration(text: str) -> timedelta:
    """`<n>[smhdw]` with a whole n >= 0, e.g. `30s`, `10m`, `3d`, `2w`."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise InvalidInput(f"{text!r} is not a duration: use <number><s|m|h|d|w>, e.g. 3d")
    number, unit = match.groups()
    seconds = int(number) * _UNITS[unit]
    # Durations are added to now (expiries, cooldowns): past a century that overflows.
    if seconds > MAX_DURATION_SECONDS:
        raise InvalidInput(f"{text!r} is too long a duration: at most 36500d (100 years)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The inverse of parse_duration, in the largest exact unit: 3 days is `3d`, 90 s `90s`."""
    if delta < timedelta(0) or delta.microseconds:
        raise ValueError(f"{delta!r} is not a whole, non-negative number of seconds")
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    unit, size = next((unit, size) for unit, size in _UNITS.items() if seconds % size == 0)
    return f"{seconds // size}{unit}"


def parse_point_in_time(text: str) -> datetime:
    """An RFC 3339 time, or a date meaning 00:00Z that day, as an aware UTC datetime.

    The grammar is checked first because `datetime.fromisoformat` also takes forms that are
    not RFC 3339 (week dates, basic format, no offset) and a naive time would be read in
    the server's local zone.
    """
    if _DATE.fullmatch(text):
        iso = f"{text}T00:00:00Z"
    elif _RFC3339.fullmatch(text):
        iso = text.upper()  # fromisoformat wants an upper-case 'T' and 'Z'
    else:
        raise InvalidInput(f"{text!r} is not a point in time: {_TIME_EXAMPLE}")
    try:
        return datetime.fromisoformat(iso).astimezone(UTC)
    except (ValueError, OverflowError) as e:
        # The shape was right but a field is out of range (month 13, second 60, ...).
        raise InvalidInput(f"{text!r} is not a valid point in time: {_TIME_EXAMPLE}") from e


def format_point_in_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, seconds and 0 or 6 fraction digits (as the JSON API)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
