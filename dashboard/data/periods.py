"""Local calendar periods (today, yesterday, this month, this year) in a site's time zone,
and the one check of a custom date range a visitor asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from stadtpuls.timebase import NS_PER_S, to_ns

MAX_CUSTOM_DAYS = 366
"""The longest custom range: a year, the longest quick range the sensor page offers."""
EARLIEST_DAY = date(2000, 1, 1)
"""No city sensor reported before this; earlier dates are typing mistakes or probes."""


class RangeRefused(ValueError):
    """A custom range the dashboard will not query; `key` names the message for the visitor
    (dashboard.i18n_text), `params` fill it."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


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


def custom_range_ns(start: str, end: str, today: date, zone: ZoneInfo) -> tuple[int, int]:
    """[first day's midnight, midnight after the last day) for two ISO dates from a visitor
    (either order). Raises RangeRefused for text that is no date, a day before EARLIEST_DAY or
    after `today`, or more than MAX_CUSTOM_DAYS days."""
    try:
        first, last = sorted((date.fromisoformat(start[:10]), date.fromisoformat(end[:10])))
    except ValueError:
        raise RangeRefused("range.bad_date") from None
    if first < EARLIEST_DAY or last > today:
        raise RangeRefused("range.outside", first=EARLIEST_DAY.isoformat(),
                           last=today.isoformat())
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise RangeRefused("range.too_long", days=MAX_CUSTOM_DAYS)
    return local_midnight_ns(first, zone), local_midnight_ns(last + timedelta(days=1), zone)
