"""Local calendar periods (today, yesterday, this month, this year) in a site's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from stadtpuls.timebase import NS_PER_S, to_ns


@dataclass(frozen=True)
class Periods:
    today: date
    today_ns: int
    yesterday_ns: int
    tomorrow_ns: int
    month_ns: int
    year_ns: int


def local_midnight_ns(day: date, zone: ZoneInfo) -> int:
    return to_ns(datetime(day.year, day.month, day.day, tzinfo=zone))


def periods(now_ns: int, zone: ZoneInfo) -> Periods:
    today = datetime.fromtimestamp(now_ns / NS_PER_S, tz=zone).date()
    return Periods(
        today=today,
        today_ns=local_midnight_ns(today, zone),
        yesterday_ns=local_midnight_ns(today - timedelta(days=1), zone),
        tomorrow_ns=local_midnight_ns(today + timedelta(days=1), zone),
        month_ns=local_midnight_ns(today.replace(day=1), zone),
        year_ns=local_midnight_ns(today.replace(month=1, day=1), zone),
    )


def local_day(time_ns: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(time_ns / NS_PER_S, tz=zone).date()


def window_offset_ns(zone: ZoneInfo, at_ns: int, window_ns: int) -> int:
    """Offset that aligns epoch-based windows of `window_ns` to local time at `at_ns`."""
    offset = datetime.fromtimestamp(at_ns / NS_PER_S, tz=zone).utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return (-seconds * NS_PER_S) % window_ns
