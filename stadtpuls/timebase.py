"""The time base every component shares: integer epoch nanoseconds, UTC.

Nanoseconds are InfluxDB's storage precision and exact in an int; floats would round a
present-day timestamp to about 0.2 µs. Stores keep time as signed 64-bit integers, so the
storable range is 1677-09-21 .. 2262-04-11.
"""

from __future__ import annotations

from datetime import UTC, datetime

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S
NS_PER_HOUR = 3_600 * NS_PER_S
NS_PER_DAY = 86_400 * NS_PER_S

MAX_NS = 2**63 - 1
"""Largest storable time (signed 64-bit nanoseconds)."""
MIN_NS = -(2**63) + 2
"""Smallest storable time: InfluxDB reserves the two lowest int64 values."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ns(when: datetime) -> int:
    """Aware datetime to integer epoch nanoseconds, exact to the microsecond."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: give a timezone (times are stored in UTC)")
    delta = when - EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * NS_PER_US


def from_ns(time_ns: int) -> datetime:
    """Epoch nanoseconds to an aware UTC datetime (microsecond resolution)."""
    return datetime.fromtimestamp(time_ns / NS_PER_S, tz=UTC)
