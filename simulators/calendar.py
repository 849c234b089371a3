"""Time grid and calendar: local hours, weekdays and the public holidays of Baden-Württemberg.

Holidays are computed from the rules (Easter by the Gregorian computus), never listed per
year, so any year simulates correctly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def bw_holidays(year: int) -> dict[date, str]:
    """Statutory public holidays in Baden-Württemberg for one year, by date."""
    easter = easter_sunday(year)
    return {
        date(year, 1, 1): "Neujahr",
        date(year, 1, 6): "Heilige Drei Könige",
        easter - timedelta(days=2): "Karfreitag",
        easter + timedelta(days=1): "Ostermontag",
        date(year, 5, 1): "Tag der Arbeit",
        easter + timedelta(days=39): "Christi Himmelfahrt",
        easter + timedelta(days=50): "Pfingstmontag",
        easter + timedelta(days=60): "Fronleichnam",
        date(year, 10, 3): "Tag der Deutschen Einheit",
        date(year, 11, 1): "Allerheiligen",
        date(year, 12, 25): "1. Weihnachtstag",
        date(year, 12, 26): "2. Weihnachtstag",
    }


def office_closed_days(year: int) -> set[date]:
    """Days a public administration in BW is closed on weekdays: holidays plus 24 and 31 Dec.

    Christmas Eve and New Year's Eve are not statutory holidays, but city offices close.
    """
    return set(bw_holidays(year)) | {date(year, 12, 24), date(year, 12, 31)}


@dataclass(frozen=True)
class Clock:
    """Calendar features of a UTC time grid, in the site's local time."""

    times_s: IntArray
    local_hour: FloatArray
    weekday: IntArray
    workday: BoolArray
    holiday: BoolArray
    day_of_year: FloatArray
    local_day: IntArray
    """Days since 1970-01-01 of the local calendar date (a key for per-day randomness)."""
    solar_hour: FloatArray
    """Mean solar time in hours (UTC shifted by longitude): noon is when the sun is south."""

    @classmethod
    def build(cls, times_s: IntArray, timezone: str, longitude: float) -> Clock:
        utc = pd.DatetimeIndex(pd.to_datetime(times_s, unit="s", utc=True))
        local = utc.tz_convert(timezone)
        hour = (
            local.hour.to_numpy(np.float64)
            + local.minute.to_numpy(np.float64) / 60.0
            + local.second.to_numpy(np.float64) / 3600.0
        )
        weekday = local.day_of_week.to_numpy(np.int64)
        day_number = _local_day_number(local)
        years = range(int(local.year.min()), int(local.year.max()) + 1) if len(local) else ()
        epoch = date(1970, 1, 1)
        closed = sorted(
            (d - epoch).days for year in years for d in office_closed_days(year)
        )
        holiday = np.isin(day_number, np.asarray(closed, dtype=np.int64))
        workday = (weekday < 5) & ~holiday
        doy = local.day_of_year.to_numpy(np.float64) - 1.0 + hour / 24.0
        return cls(
            times_s=times_s,
            local_hour=hour,
            weekday=weekday,
            workday=workday,
            holiday=holiday,
            day_of_year=doy,
            local_day=day_number,
            solar_hour=((times_s % 86_400) / 3600.0 + longitude / 15.0) % 24.0,
        )


def _local_day_number(local: pd.DatetimeIndex) -> IntArray:
    # Via datetime64[D], not asi8: pandas 3 picks the index resolution (s, us or ns) itself.
    naive = local.tz_localize(None).to_numpy()
    days: IntArray = naive.astype("datetime64[D]").astype(np.int64)
    return days
