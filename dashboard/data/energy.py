"""Energy of a site per local period: PV, consumption, grid; shares and CO2 avoided.

Sources, best first: cumulative meters (exact, survive gaps and resets), then power
readings (trapezoids, never across a gap). The rules are in `stadtpuls.energy_math`.

Query plan for meters (one store query per range for all meters of a site, each cached
for as long as its range can change):

- lookback before the year (or yesterday) .. start of month: daily windows, cached 1 h
- start of month (or yesterday) .. today 00:00:       hourly windows, cached 30 min
- today 00:00 .. now:                                   hourly windows, cached 1 min

Each window's energy is the store's `Aggregate.ENERGY` (the meter's increase over
(start, end], so a reading taken exactly at midnight closes the day before; resets handled),
which the store answers from the roll-up tiers once they are built, so a year costs 24 hourly
rows a day and still works after raw readings have been deleted by retention. Every window
is assigned to the local day of its midpoint, which is right across DST changes too.

Shares (from meters, never from netted import − export):
    PV used in the building = PV production − export
    self-consumption share  = PV used / PV production
    self-sufficiency        = PV used / consumption
with consumption from the consumption meter, or import + PV used when there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dashboard.data.cache import bucket_end
from dashboard.data.periods import Periods, local_day, periods, window_offset_ns
from dashboard.data.source import DataSource
from stadtpuls.catalogue import PVArray, Role, Sensor
from stadtpuls.energy_math import power_segments
from stadtpuls.reading import SeriesKey
from stadtpuls.store.protocol import Aggregate
from stadtpuls.timebase import NS_PER_S

HOUR_NS = 3_600 * NS_PER_S
DAY_NS = 24 * HOUR_NS
_LOOKBACK_NS = 2 * DAY_NS
_LIVE_BUCKET_S = 60.0
PERIOD_NAMES = ("today", "yesterday", "month", "year")


@dataclass(frozen=True)
class PeriodValues:
    """Wh per period; None where no reading covers it."""

    today: float | None = None
    yesterday: float | None = None
    month: float | None = None
    year: float | None = None

    def get(self, name: str) -> float | None:
        value: float | None = getattr(self, name)
        return value


def _assign(points: Sequence[tuple[int, float]], p: Periods, zone_day: dict[int, date]
            ) -> PeriodValues:
    sums: dict[str, float] = {}
    for mid_ns, wh in points:
        day = zone_day[mid_ns]
        if mid_ns < p.year_ns and mid_ns < p.yesterday_ns:
            continue
        names = []
        if day == p.today:
            names.append("today")
        if p.yesterday_ns <= mid_ns < p.today_ns:
            names.append("yesterday")
        if mid_ns >= p.month_ns:
            names.append("month")
        if mid_ns >= p.year_ns:
            names.append("year")
        for name in names:
            sums[name] = sums.get(name, 0.0) + wh
    return PeriodValues(**{name: sums.get(name) for name in PERIOD_NAMES})


def meter_windows(
    source: DataSource, site: str, keys: Sequence[SeriesKey],
    parts: Sequence[tuple[int, int, int, float]],
) -> dict[SeriesKey, list[tuple[int, float]]]:
    """Energy (Wh) per window of each cumulative meter, as (window midpoint ns, Wh).

    `parts` are consecutive ranges (start, end, window ns, cache TTL s), aligned to local
    midnight. The store's `ENERGY` aggregate counts each window from the last reading of the
    window before, across resets (`stadtpuls/energy_math.py`), from the roll-up tiers where
    they answer. The energy page and the reports both count meters here, so their figures
    agree.
    """
    zone = source.zone(site)
    out: dict[SeriesKey, list[tuple[int, float]]] = {k: [] for k in keys}
    for lo, hi, window, ttl in parts:
        offset = window_offset_ns(zone, hi, window)
        result = source.reader.aggregate(keys, lo, hi, window, (Aggregate.ENERGY,), ttl_s=ttl,
                                         offset_ns=offset)
        for key, ws in result.items():
            out[key] += [(t + window // 2, wh) for t, wh in
                         zip(ws.times, ws.values[Aggregate.ENERGY], strict=True)]
    return out


def meter_energy_by_period(
    source: DataSource, site: str, keys: Sequence[SeriesKey]
) -> dict[SeriesKey, PeriodValues]:
    """Energy (Wh) counted by each cumulative meter per local period."""
    if not keys:
        return {}
    zone = source.zone(site)
    now = source.now_ns()
    p = periods(now, zone)
    end = bucket_end(now, _LIVE_BUCKET_S)
    a = min(p.year_ns, p.yesterday_ns) - _LOOKBACK_NS
    b = min(p.month_ns, p.yesterday_ns)
    parts = [(a, b, DAY_NS, 3_600.0), (b, p.today_ns, HOUR_NS, 1_800.0),
             (p.today_ns, end, HOUR_NS, _LIVE_BUCKET_S)]
    out: dict[SeriesKey, PeriodValues] = {}
    for key, points in meter_windows(source, site, keys, parts).items():
        days = {m: local_day(m, zone) for m, _ in points}
        out[key] = _assign(points, p, days)
    return out


def meter_energy_by_day(
    source: DataSource, site: str, keys: Sequence[SeriesKey], start_ns: int, end_ns: int,
    ttl_s: float,
) -> dict[SeriesKey, dict[date, float]]:
    """Energy (Wh) of each meter per local day of [start, end), both local midnights (or
    `end` = now, bucketed): hourly windows, the same chain as the energy page's month."""
    if not keys:
        return {}
    zone = source.zone(site)
    parts = [(start_ns, end_ns, HOUR_NS, ttl_s)]
    out: dict[SeriesKey, dict[date, float]] = {}
    for key, points in meter_windows(source, site, keys, parts).items():
        days: dict[date, float] = {}
        for mid, wh in points:
            if start_ns <= mid < end_ns:
                day = local_day(mid, zone)
                days[day] = days.get(day, 0.0) + wh
        out[key] = days
    return out


def power_energy_by_period(
    source: DataSource, site: str, sensors: Sequence[tuple[SeriesKey, float]]
) -> dict[SeriesKey, PeriodValues]:
    """Energy (Wh) from power readings for today and yesterday (month, year: None).

    `sensors` pairs each power series with its expected interval in seconds.
    """
    zone = source.zone(site)
    now = source.now_ns()
    p = periods(now, zone)
    end = bucket_end(now, _LIVE_BUCKET_S)
    out: dict[SeriesKey, PeriodValues] = {}
    by_interval: dict[float, list[SeriesKey]] = {}
    for key, interval in sensors:
        by_interval.setdefault(interval, []).append(key)
    for interval, keys in by_interval.items():
        window = max(1, int(interval * NS_PER_S))
        # Past ranges never change: split so only today's part is re-read every minute.
        parts = [(p.yesterday_ns - 2 * window, p.today_ns, 1_800.0),
                 (p.today_ns - 2 * window, end, _LIVE_BUCKET_S)]
        series: dict[SeriesKey, dict[int, float]] = {k: {} for k in keys}
        for lo, hi, ttl in parts:
            result = source.reader.aggregate(keys, lo, hi, window, (Aggregate.MEAN,),
                                             ttl_s=ttl)
            for key, ws in result.items():
                series[key].update(zip(ws.times, ws.values[Aggregate.MEAN], strict=True))
        for key, points in series.items():
            times = sorted(points)
            wh, mids = power_segments([t / NS_PER_S for t in times], [points[t] for t in times],
                                      interval)
            mid_ns = [int(m * NS_PER_S) for m in mids]
            days = {m: local_day(m, zone) for m in mid_ns}
            values = _assign(list(zip(mid_ns, wh.tolist(), strict=True)), p, days)
            out[key] = PeriodValues(today=values.today, yesterday=values.yesterday)
    return out


@dataclass(frozen=True)
class ArrayEnergy:
    array: PVArray
    power_w: float | None
    energy: PeriodValues
    source: str | None
    """"meter", "power" or None (no data)."""

    def specific_yield(self, period: str) -> float | None:
        """kWh per kWp in `period`."""
        wh = self.energy.get(period)
        return None if wh is None else wh / self.array.peak_power_w


@dataclass(frozen=True)
class Balance:
    """One period's site balance in Wh, shares 0..1, CO2 avoided in kg."""

    pv_wh: float | None
    consumption_wh: float | None
    import_wh: float | None
    export_wh: float | None
    self_consumption: float | None
    self_sufficiency: float | None
    co2_avoided_kg: float | None


def balance(pv: float | None, consumption: float | None, imported: float | None,
            exported: float | None, grid_g_per_kwh: float) -> Balance:
    used = None if pv is None or exported is None else max(pv - exported, 0.0)
    if consumption is None and imported is not None and used is not None:
        consumption = imported + used
    share = used / pv if used is not None and pv else None
    sufficiency = used / consumption if used is not None and consumption else None
    co2 = pv / 1000.0 * grid_g_per_kwh / 1000.0 if pv is not None else None
    return Balance(pv, consumption, imported, exported, share, sufficiency, co2)


def _sum(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _role(sensors: Sequence[Sensor], role: Role) -> list[Sensor]:
    return [s for s in sensors if s.role is role]


@dataclass(frozen=True)
class SiteEnergy:
    site: str
    arrays: list[ArrayEnergy]
    pv_power_w: float | None
    consumption_power_w: float | None
    balances: dict[str, Balance]


def site_energy(source: DataSource, site: str,
                fresh_power: dict[SeriesKey, float] | None = None) -> SiteEnergy:
    """Everything the energy page shows about a site; `fresh_power` = live W per series."""
    entry = source.catalogue.sites[site]
    sensors = entry.sensors
    fresh_power = fresh_power or {}
    meters = [s for s in sensors if s.role in (Role.PV_ENERGY, Role.CONSUMPTION_ENERGY,
                                               Role.GRID_IMPORT_ENERGY, Role.GRID_EXPORT_ENERGY)]
    meter_values = meter_energy_by_period(
        source, site, [SeriesKey(site, s.id, s.quantity) for s in meters])

    def meter_of(sensor: Sensor) -> PeriodValues | None:
        values = meter_values.get(SeriesKey(site, sensor.id, sensor.quantity))
        has_data = values is not None and any(values.get(n) is not None for n in PERIOD_NAMES)
        return values if has_data else None

    power_only = [
        s for s in _role(sensors, Role.PV_POWER)
        if not any(m.array == s.array and meter_of(m) for m in _role(sensors, Role.PV_ENERGY))
    ]
    power_values = power_energy_by_period(
        source, site, [(SeriesKey(site, s.id, s.quantity), s.interval_s) for s in power_only])

    arrays: list[ArrayEnergy] = []
    for array in entry.pv_arrays:
        power = [fresh_power.get(SeriesKey(site, s.id, s.quantity))
                 for s in _role(sensors, Role.PV_POWER) if s.array == array.id]
        meter = next((v for s in _role(sensors, Role.PV_ENERGY) if s.array == array.id
                      if (v := meter_of(s)) is not None), None)
        from_power = next((power_values[k] for s in power_only if s.array == array.id
                           if (k := SeriesKey(site, s.id, s.quantity)) in power_values), None)
        energy, kind = ((meter, "meter") if meter else
                        (from_power, "power") if from_power else (PeriodValues(), None))
        arrays.append(ArrayEnergy(array, _sum(power), energy, kind))

    def role_total(role: Role, period: str) -> float | None:
        return _sum([v.get(period) for s in _role(sensors, role) if (v := meter_of(s))])

    balances = {}
    for period in PERIOD_NAMES:
        pv = _sum([a.energy.get(period) for a in arrays])
        balances[period] = balance(
            pv, role_total(Role.CONSUMPTION_ENERGY, period),
            role_total(Role.GRID_IMPORT_ENERGY, period),
            role_total(Role.GRID_EXPORT_ENERGY, period), source.settings.grid_co2_g_per_kwh)
    consumption_now = _sum([fresh_power.get(SeriesKey(site, s.id, s.quantity))
                            for s in _role(sensors, Role.CONSUMPTION_POWER)])
    return SiteEnergy(site, arrays, _sum([a.power_w for a in arrays]), consumption_now,
                      balances)
