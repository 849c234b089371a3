"""Reports for facility managers: one site, one calendar month or year, against earlier years.

Each figure has one home, shared with the energy page so the two always agree:

- energy per array, consumption, grid import and export: the meters, counted per local day
  by `energy.meter_energy_by_day` (the energy page's meter chain, hourly windows);
- self-consumption, self-sufficiency and CO₂ avoided: `energy.balance`;
- expected output: the pvlib model of `performance.model_frame` on 5-minute windows, and
  actual/expected over the windows where both are known (`performance.paired_energy`);
- data completeness: `stadtpuls.health.completeness` of each energy and weather sensor.

A month is the unit of work and of caching; a year is the sum of its months, so a year's
figures equal the sum of its twelve monthly reports. A closed month is cached for an hour
(late or spooled readings can still arrive), the running month for a minute. A running
period is compared with the same days of earlier years ("to date"), never with whole months.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from dashboard.data.cache import bucket_end
from dashboard.data.energy import Balance, balance, meter_energy_by_day
from dashboard.data.performance import WINDOW_S, model_frame, paired_energy
from dashboard.data.periods import EARLIEST_DAY, RangeRefused, local_day, local_midnight_ns
from dashboard.data.source import DataSource
from stadtpuls.catalogue import Role, Sensor
from stadtpuls.health import completeness
from stadtpuls.reading import SeriesKey
from stadtpuls.timebase import NS_PER_S

EARLIER_YEARS = 5
"""How many earlier years a report compares with (the issue's "the last five")."""
_CLOSED_TTL_S = 3_600.0
_RUNNING_TTL_S = 60.0
_PERIOD = re.compile(r"(\d{4})(?:-(\d{2}))?")
GRID_ROLES = (Role.CONSUMPTION_ENERGY, Role.GRID_IMPORT_ENERGY, Role.GRID_EXPORT_ENERGY)
COMPLETENESS_ROLES = (Role.PV_ENERGY, Role.PV_POWER, *GRID_ROLES, Role.CONSUMPTION_POWER,
                      Role.IRRADIANCE, Role.AIR_TEMPERATURE, Role.WIND_SPEED)


@dataclass(frozen=True, order=True)
class ReportPeriod:
    """A calendar year (`month` None) or month, in the site's time zone."""

    year: int
    month: int | None = None

    @property
    def text(self) -> str:
        """As in URLs and file names: "2026" or "2026-10"."""
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def next_first_day(self) -> date:
        if self.month is None or self.month == 12:
            return date(self.year + 1, 1, 1)
        return date(self.year, self.month + 1, 1)

    def months(self) -> list[ReportPeriod]:
        if self.month is not None:
            return [self]
        return [ReportPeriod(self.year, m) for m in range(1, 13)]

    def in_year(self, year: int) -> ReportPeriod:
        return ReportPeriod(year, self.month)


def parse_period(text: str, today: date) -> ReportPeriod:
    """"2026" or "2026-10" from a URL; RangeRefused (with the visitor's message key) for any
    other text, a month 00 or 13, or a period before EARLIEST_DAY or after `today`."""
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise RangeRefused("report.bad_period")
    month = int(match[2]) if match[2] else None
    if month is not None and not 1 <= month <= 12:
        raise RangeRefused("report.bad_period")
    period = ReportPeriod(int(match[1]), month)
    if period.next_first_day <= EARLIEST_DAY or period.first_day > today:
        raise RangeRefused("report.outside", first=EARLIEST_DAY.isoformat()[:7],
                           last=today.isoformat()[:7])
    return period


@dataclass(frozen=True)
class DailyEnergy:
    """Wh per local day from the site's meters; a day without meter data is absent."""

    arrays: dict[str, dict[date, float]] = field(default_factory=dict)
    roles: dict[Role, dict[date, float]] = field(default_factory=dict)

    def merged(self, other: DailyEnergy) -> DailyEnergy:
        arrays = {k: {**self.arrays.get(k, {}), **other.arrays.get(k, {})}
                  for k in {*self.arrays, *other.arrays}}
        roles = {k: {**self.roles.get(k, {}), **other.roles.get(k, {})}
                 for k in {*self.roles, *other.roles}}
        return DailyEnergy(arrays, roles)

    def until(self, last: date) -> DailyEnergy:
        """Only the days up to `last` in the calendar of the days' own year (to-date)."""
        def keep(days: dict[date, float]) -> dict[date, float]:
            return {d: v for d, v in days.items() if (d.month, d.day) <= (last.month, last.day)}
        return DailyEnergy({k: keep(v) for k, v in self.arrays.items()},
                           {k: keep(v) for k, v in self.roles.items()})

    def days_with_data(self) -> set[date]:
        return {d for days in self.arrays.values() for d in days}


def _total(days: dict[date, float] | None, which: Iterable[date] | None = None) -> float | None:
    if not days:
        return None
    picked = [v for d, v in days.items() if which is None or d in which]
    return sum(picked) if picked else None


def _sum(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def balance_of(source: DataSource, energy: DailyEnergy,
               days: Iterable[date] | None = None) -> Balance:
    """The energy page's balance (`energy.balance`) over `days` (None: all)."""
    chosen = None if days is None else set(days)
    pv = _sum(_total(d, chosen) for d in energy.arrays.values())
    role = {r: _total(energy.roles.get(r), chosen) for r in GRID_ROLES}
    return balance(pv, role[Role.CONSUMPTION_ENERGY], role[Role.GRID_IMPORT_ENERGY],
                   role[Role.GRID_EXPORT_ENERGY], source.settings.grid_co2_g_per_kwh)


def _span(source: DataSource, site: str, period: ReportPeriod) -> tuple[int, int, float]:
    """[start, covered end) in ns and the cache TTL: a running period ends at now (bucketed)."""
    zone = source.zone(site)
    start = local_midnight_ns(period.first_day, zone)
    end = local_midnight_ns(period.next_first_day, zone)
    now = bucket_end(source.now_ns(), _RUNNING_TTL_S)
    return (start, end, _CLOSED_TTL_S) if end <= now else (start, max(start, now), _RUNNING_TTL_S)


def daily_energy(source: DataSource, site: str, period: ReportPeriod) -> DailyEnergy:
    """Meter energy per local day of `period` (months read one by one, each cached)."""
    out = DailyEnergy()
    for month in period.months():
        start, end, ttl = _span(source, site, month)
        if end > start:
            out = out.merged(source.reader.memo(("report-daily", site, month, end),
                                                partial(_daily, source, site, start, end, ttl),
                                                ttl))
    return out


def _daily(source: DataSource, site: str, start: int, end: int, ttl: float) -> DailyEnergy:
    sensors = source.catalogue.sites[site].sensors
    meters = [s for s in sensors if s.role in (Role.PV_ENERGY, *GRID_ROLES)]
    by_key = meter_energy_by_day(source, site, [_key(site, s) for s in meters], start, end, ttl)
    arrays: dict[str, dict[date, float]] = {}
    for s in meters:
        days = by_key.get(_key(site, s), {})
        # The energy page's rule: an array's energy is its first PV meter with data.
        if s.role is Role.PV_ENERGY and s.array and days and s.array not in arrays:
            arrays[s.array] = days
    roles: dict[Role, dict[date, float]] = {}
    for s in meters:
        days = by_key.get(_key(site, s), {})
        if s.role in GRID_ROLES and days:
            into = roles.setdefault(s.role, {})  # several meters of one role add up
            for d, wh in days.items():
                into[d] = into.get(d, 0.0) + wh
    return DailyEnergy(arrays, roles)


def _key(site: str, sensor: Sensor) -> SeriesKey:
    return SeriesKey(site, sensor.id, sensor.quantity)


@dataclass(frozen=True)
class ModelEnergy:
    """The pvlib model over a period, per array, in Wh."""

    expected_wh: dict[str, float] = field(default_factory=dict)
    """Modelled energy over every window with a measured irradiance."""
    paired: dict[str, tuple[float, float]] = field(default_factory=dict)
    """(actual, expected) over the windows where both are known (the ratio's basis)."""
    weather_windows: int = 0
    windows: int = 0

    def plus(self, other: ModelEnergy) -> ModelEnergy:
        ids = {*self.expected_wh, *other.expected_wh}
        return ModelEnergy(
            {i: self.expected_wh.get(i, 0.0) + other.expected_wh.get(i, 0.0) for i in ids},
            {i: (self.paired.get(i, (0.0, 0.0))[0] + other.paired.get(i, (0.0, 0.0))[0],
                 self.paired.get(i, (0.0, 0.0))[1] + other.paired.get(i, (0.0, 0.0))[1])
             for i in {*self.paired, *other.paired}},
            self.weather_windows + other.weather_windows, self.windows + other.windows)


def model_energy(source: DataSource, site: str, period: ReportPeriod) -> ModelEnergy:
    out = ModelEnergy()
    for month in period.months():
        start, end, ttl = _span(source, site, month)
        end -= end % (WINDOW_S * NS_PER_S)  # whole windows only
        if end > start:
            out = out.plus(source.reader.memo(("report-model", site, month, end),
                                              partial(_model, source, site, start, end, ttl),
                                              ttl))
    return out


def _model(source: DataSource, site_id: str, start: int, end: int, ttl: float) -> ModelEnergy:
    site = source.catalogue.sites[site_id]
    frame, has_weather = model_frame(source, site_id, start, end, ttl)
    hours = WINDOW_S / 3_600.0
    if not has_weather:
        return ModelEnergy(windows=len(frame))
    expected = {a.id: float(frame[f"expected:{a.id}"].sum(skipna=True)) * hours
                for a in site.pv_arrays}
    paired = {a.id: paired_energy(frame, a.id, a.peak_power_w) for a in site.pv_arrays}
    with_weather = int(frame[f"expected:{site.pv_arrays[0].id}"].notna().sum())
    return ModelEnergy(expected, paired, with_weather, len(frame))


def reading_counts(source: DataSource, site: str, period: ReportPeriod
                   ) -> tuple[dict[str, int], float]:
    """Readings per sensor id in the covered part of `period`, and its length in seconds."""
    counts: dict[str, int] = {}
    seconds = 0.0
    for month in period.months():
        start, end, ttl = _span(source, site, month)
        if end <= start:
            continue
        seconds += (end - start) / NS_PER_S
        found = source.reader.counts(start, end, site, ttl_s=ttl)
        for key, n in found.items():
            counts[key.sensor] = counts.get(key.sensor, 0) + n
    return counts, seconds


@dataclass(frozen=True)
class ArrayLine:
    array_id: str
    peak_w: float
    energy_wh: float | None
    expected_wh: float | None
    ratio: float | None
    """Actual/expected over the windows where both are known."""

    @property
    def specific_yield(self) -> float | None:
        """kWh/kWp."""
        return None if self.energy_wh is None else self.energy_wh / self.peak_w

    @property
    def expected_yield(self) -> float | None:
        return None if self.expected_wh is None else self.expected_wh / self.peak_w


@dataclass(frozen=True)
class CompletenessLine:
    sensor: Sensor
    readings: int
    expected: float
    share: float | None


@dataclass(frozen=True)
class EarlierYear:
    year: int
    balance: Balance
    kwp_with_data: float
    days_with_data: int
    days: int

    @property
    def specific_yield(self) -> float | None:
        pv = self.balance.pv_wh
        return None if pv is None or not self.kwp_with_data else pv / self.kwp_with_data


@dataclass(frozen=True)
class Report:
    site: str
    period: ReportPeriod
    start_ns: int
    covered_end_ns: int
    """Where the data ends: the period's end, or now for a running period."""
    running: bool
    generated_ns: int
    total: Balance
    arrays: list[ArrayLine]
    breakdown: list[tuple[date, Balance]]
    """Per day (month report) or per month (year report, keyed by the 1st)."""
    earlier: list[EarlierYear]
    completeness: list[CompletenessLine]
    weather_share: float | None
    """Share of 5-minute windows with a measured irradiance (what the model had)."""
    days_with_data: int
    days: int

    def _metered(self) -> list[ArrayLine]:
        return [a for a in self.arrays if a.energy_wh is not None]

    @property
    def specific_yield(self) -> float | None:
        """Site kWh/kWp: PV production over the kWp of the arrays whose meters counted (an
        array without data would otherwise pull the figure down)."""
        kwp = sum(a.peak_w for a in self._metered())
        return None if self.total.pv_wh is None or not kwp else self.total.pv_wh / kwp

    @property
    def expected_yield(self) -> float | None:
        """The model's kWh/kWp over the same arrays; None without weather data."""
        metered = self._metered()
        expected = [a.expected_wh for a in metered if a.expected_wh is not None]
        kwp = sum(a.peak_w for a in metered)
        return sum(expected) / kwp if expected and len(expected) == len(metered) else None


def site_report(source: DataSource, site: str, period: ReportPeriod) -> Report:
    """Everything a report shows (the parts cached per month, see the module docstring)."""
    entry = source.catalogue.sites[site]
    zone = source.zone(site)
    start, end, _ = _span(source, site, period)
    full_end = local_midnight_ns(period.next_first_day, zone)
    running = end < full_end
    last_day = local_day(max(start, end - NS_PER_S), zone)
    energy = daily_energy(source, site, period)
    model = model_energy(source, site, period)
    arrays = []
    for a in entry.pv_arrays:
        actual, exp = model.paired.get(a.id, (0.0, 0.0))
        arrays.append(ArrayLine(a.id, a.peak_power_w, _total(energy.arrays.get(a.id)),
                                model.expected_wh.get(a.id) if model.weather_windows else None,
                                actual / exp if exp > 0 else None))
    breakdown = _breakdown(source, period, energy, last_day)
    earlier = [_earlier(source, site, period.in_year(y), running, last_day)
               for y in range(period.year - 1, period.year - 1 - EARLIER_YEARS, -1)
               if y >= EARLIEST_DAY.year]
    counts, seconds = reading_counts(source, site, period)
    lines = []
    for s in entry.sensors:
        if s.role in COMPLETENESS_ROLES and seconds > 0:
            n = counts.get(s.id, 0)
            lines.append(CompletenessLine(s, n, seconds / s.interval_s,
                                          completeness(n, seconds, s.interval_s)))
    days = (min(period.next_first_day, last_day + timedelta(days=1)) - period.first_day).days
    return Report(site, period, start, end, running, source.now_ns(), balance_of(source, energy),
                  arrays, breakdown, earlier, lines,
                  model.weather_windows / model.windows if model.windows else None,
                  len(energy.days_with_data()), days)


def _breakdown(source: DataSource, period: ReportPeriod, energy: DailyEnergy, last_day: date
               ) -> list[tuple[date, Balance]]:
    if period.month is not None:
        days = [period.first_day + timedelta(days=i)
                for i in range((period.next_first_day - period.first_day).days)]
        return [(d, balance_of(source, energy, [d])) for d in days if d <= last_day]
    out = []
    for month in period.months():
        if month.first_day > last_day:
            break
        days = [d for d in energy.days_with_data() | _role_days(energy)
                if month.first_day <= d < month.next_first_day]
        out.append((month.first_day, balance_of(source, energy, days)))
    return out


def _role_days(energy: DailyEnergy) -> set[date]:
    return {d for days in energy.roles.values() for d in days}


def _earlier(source: DataSource, site: str, period: ReportPeriod, to_date: bool,
             last_day: date) -> EarlierYear:
    energy = daily_energy(source, site, period)
    if to_date:
        energy = energy.until(last_day)
    arrays = {a.id: a.peak_power_w for a in source.catalogue.sites[site].pv_arrays}
    kwp = sum(arrays.get(i, 0.0) for i, days in energy.arrays.items() if days)
    end = period.next_first_day
    if to_date:
        end = min(end, _in_year(last_day, period.year) + timedelta(days=1))
    return EarlierYear(period.year, balance_of(source, energy), kwp,
                       len(energy.days_with_data()), (end - period.first_day).days)


def _in_year(day: date, year: int) -> date:
    """The same calendar day in `year` (29 February: the 28th)."""
    return day.replace(year=year, day=28) if (day.month, day.day) == (2, 29) else \
        day.replace(year=year)
