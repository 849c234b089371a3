"""The period a bulk file covers: one local day or month of the dataset's site.

Days and months are the site's local calendar (a Freiburg day starts at local midnight, so a
day in the changeover to summer time has 23 hours). What is refused, with a sentence that
says why: malformed labels and impossible dates (400), days in the future and days before the
dataset's first reading (404).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from stadtpuls.timebase import NS_PER_DAY, to_ns

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

CLOSE_AFTER_NS = 2 * NS_PER_DAY
"""A period is final this long after its end: late readings (a spool draining after an
outage, dead letters replayed) normally land within it. Final files are cached for a year."""


class PeriodError(ValueError):
    """A file label that names no period we serve; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Period:
    label: str  # YYYY-MM-DD or YYYY-MM
    first_day: date
    end_day: date  # exclusive
    zone: str
    start_ns: int
    end_ns: int

    @property
    def is_month(self) -> bool:
        return len(self.label) == 7

    def days(self) -> list[Period]:
        """The month's days (a day is its own single day)."""
        out, day = [], self.first_day
        while day < self.end_day:
            out.append(period_of(day, day + timedelta(days=1), day.isoformat(), self.zone))
            day += timedelta(days=1)
        return out

    def is_closed(self, now_ns: int) -> bool:
        return now_ns >= self.end_ns + CLOSE_AFTER_NS


def period_of(first: date, end: date, label: str, zone: str) -> Period:
    tz = ZoneInfo(zone)
    return Period(label, first, end, zone,
                  to_ns(datetime.combine(first, time(), tz)),
                  to_ns(datetime.combine(end, time(), tz)))


def parse_period(label: str, zone: str) -> Period:
    """`YYYY-MM-DD` or `YYYY-MM` in `zone`; raises PeriodError(400) for anything else."""
    try:
        if (m := _DAY.match(label)) is not None:
            first = date(int(m[1]), int(m[2]), int(m[3]))
            return period_of(first, first + timedelta(days=1), label, zone)
        if (m := _MONTH.match(label)) is not None:
            first = date(int(m[1]), int(m[2]), 1)
            end = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return period_of(first, end, label, zone)
    except (ValueError, OverflowError):
        raise PeriodError(400, f"{label!r} is not a valid date; use a real day YYYY-MM-DD "
                          "or month YYYY-MM") from None
    raise PeriodError(400, f"{label!r} is not a file name we serve; use YYYY-MM-DD.csv for "
                      "a day or YYYY-MM.csv for a month")


def check_available(period: Period, now_ns: int, first_reading_ns: int | None) -> None:
    """PeriodError(404) for a period that has not begun or ends before the first reading."""
    if period.start_ns > now_ns:
        raise PeriodError(404, f"{period.label} lies in the future; files exist up to today")
    if first_reading_ns is None:
        raise PeriodError(404, "this dataset has no readings yet")
    if period.end_ns <= first_reading_ns:
        first = datetime.fromtimestamp(first_reading_ns // 10**9, ZoneInfo(period.zone))
        raise PeriodError(404, f"no readings before {first.date().isoformat()}, the first "
                          f"day of this dataset; {period.label} has no file")
