"""Per-site summary for the overview cards: live headline figures and sensor health counts.

A headline comes from the sensors with a given role; sensors that are silent are left out,
so a dead sensor's last value is never shown as live. Which headlines a site gets follows
from the roles it has, so a new site in the catalogue needs no code here.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from dashboard.data.cache import bucket_end
from dashboard.data.energy import SiteEnergy, site_energy
from dashboard.data.history import history
from dashboard.data.performance import performance
from dashboard.data.periods import periods
from dashboard.data.source import DataSource
from dashboard.data.status import (
    SensorState,
    Status,
    sensor_states_shared,
    states_by_site,
    status_counts,
)
from stadtpuls.catalogue import Role
from stadtpuls.reading import SeriesKey
from stadtpuls.store.protocol import Aggregate
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import CANONICAL_UNIT

MAX_HEADLINES = 6
# Statuses whose newest value is worth a headline (a stuck value is not live).
_LIVE = (Status.OK, Status.LATE, Status.IMPLAUSIBLE, Status.INCOMPLETE, Status.LOW_BATTERY)


@dataclass(frozen=True)
class Headline:
    key: str
    """Text key in i18n (label), e.g. "pv_power"."""
    value: float | None
    unit: str
    decimals: int = 0


@dataclass(frozen=True)
class Trend:
    """The last 24 h of a site at a glance: columns are text keys, values in `unit`."""

    kind: str
    """"power" (PV area and consumption line), "bars" or "line"."""
    unit: str
    frame: pd.DataFrame
    """Index: time; one column per series, named by an i18n key or `sensor:<id>`."""


@dataclass(frozen=True)
class SiteSummary:
    site_id: str
    counts: dict[Status, int]
    headlines: list[Headline]
    newest_ns: int | None
    trend: Trend | None = None


def live_values(states: list[SensorState]) -> dict[SeriesKey, float]:
    """Value of every sensor that is not silent (nor implausible), by series."""
    return {s.key: s.last.value for s in states
            if s.last is not None and s.status in (Status.OK, Status.LATE)}


def _by_role(states: list[SensorState], role: Role) -> list[SensorState]:
    return [s for s in states if s.sensor is not None and s.sensor.role is role]


def _live(states: list[SensorState], role: Role, pick: Callable[[list[float]], float]
          ) -> float | None:
    values = [s.last.value for s in _by_role(states, role)
              if s.last is not None and s.status in _LIVE and not s.last.implausible]
    return pick(values) if values else None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def bikes_today(source: DataSource, site: str, states: list[SensorState]) -> float | None:
    keys = [s.key for s in _by_role(states, Role.BIKE_COUNT)]
    if not keys:
        return None
    p = periods(source.now_ns(), source.zone(site))
    end = bucket_end(source.now_ns(), 60.0)
    result = source.reader.aggregate(keys, p.today_ns, end, end - p.today_ns + NS_PER_S,
                                     (Aggregate.SUM,), ttl_s=60.0, offset_ns=p.today_ns)
    total = sum(sum(ws.values[Aggregate.SUM]) for ws in result.values())
    return float(total)


_SITE_WORKERS = 4
_TREND_ROLES = (Role.PM2_5, Role.NOISE, Role.NO2, Role.AIR_TEMPERATURE, Role.ROOM_CO2)


def trend(source: DataSource, site: str, states: list[SensorState]) -> Trend | None:
    """PV and consumption for a PV site, hourly counts for a counting site, else one line."""
    entry = source.catalogue.sites[site]
    if entry.pv_arrays:
        frame = performance(source, site).frame
        cols = [c for c in frame.columns if c.startswith("actual:")]
        out = pd.DataFrame(index=frame.index)
        out["energy.production"] = frame[cols].sum(axis=1, min_count=1) / 1000
        if "consumption" in frame:
            out["energy.consumption"] = frame["consumption"] / 1000
        return Trend("power", "kW", out)
    end = bucket_end(source.now_ns(), 60.0)
    bikes = [s.key for s in _by_role(states, Role.BIKE_COUNT)]
    if bikes:
        hour = 3_600 * NS_PER_S
        result = source.reader.aggregate(bikes, end - end % hour - 23 * hour, end, hour,
                                         (Aggregate.SUM,), ttl_s=60.0)
        series = pd.Series(dtype=float)
        for ws in result.values():
            part = pd.Series(ws.values[Aggregate.SUM], index=ws.times, dtype=float)
            series = part if series.empty else series.add(part, fill_value=0.0)
        index = pd.to_datetime(series.index.to_numpy(dtype="int64"), unit="ns", utc=True)
        return Trend("bars", "", pd.DataFrame({"trend.bikes_per_hour": series.to_numpy()},
                                              index=index))
    for role in _TREND_ROLES:
        sensors = [s for s in _by_role(states, role) if s.sensor is not None]
        if sensors and sensors[0].sensor is not None:
            state, sensor = sensors[0], sensors[0].sensor
            hist = history(source, state.key, end - 86_400 * NS_PER_S, end, sensor.interval_s,
                           source.zone(site))
            frame = hist.frame.set_index("time")[["mean"]].rename(
                columns={"mean": f"sensor:{sensor.id}"})
            return Trend("line", CANONICAL_UNIT[state.quantity], frame)
    return None


def site_summary(source: DataSource, site: str, states: list[SensorState]) -> SiteSummary:
    entry = source.catalogue.sites[site]
    roles = {s.role for s in entry.sensors}
    heads: list[Headline] = []
    energy: SiteEnergy | None = None
    if Role.PV_POWER in roles or Role.PV_ENERGY in roles:
        energy = site_energy(source, site, live_values(states))
    if energy is not None:
        pv_now = energy.pv_power_w
        heads.append(Headline("pv_power", None if pv_now is None else pv_now / 1000, "kW"))
        today = energy.balances["today"]
        heads.append(Headline("pv_today", None if today.pv_wh is None else today.pv_wh / 1000,
                              "kWh"))
        if today.self_sufficiency is not None:
            heads.append(Headline("self_sufficiency_today", today.self_sufficiency * 100, "%"))
    if Role.CONSUMPTION_POWER in roles:
        value = _live(states, Role.CONSUMPTION_POWER, sum)
        heads.append(Headline("consumption", None if value is None else value / 1000, "kW"))
    if Role.BIKE_COUNT in roles:
        heads.append(Headline("bikes_today", bikes_today(source, site, states), ""))
    for role, key, unit, decimals, pick in (
        (Role.AIR_TEMPERATURE, "air_temperature", "°C", 1, _mean),
        (Role.ROOM_CO2, "room_co2_max", "ppm", 0, max),
        (Role.PM2_5, "pm2_5", "µg/m³", 1, _mean),
        (Role.NO2, "no2", "µg/m³", 1, _mean),
        (Role.NOISE, "noise", "dB(A)", 1, _mean),
        (Role.PM10, "pm10", "µg/m³", 1, _mean),
        (Role.ROOM_TEMPERATURE, "room_temperature", "°C", 1, _mean),
    ):
        if role in roles:
            heads.append(Headline(key, _live(states, role, pick), unit, decimals))
    newest = max((s.last.time_ns for s in states if s.last is not None), default=None)
    return SiteSummary(site, status_counts(states), heads[:MAX_HEADLINES], newest,
                       trend(source, site, states))


def overview(source: DataSource) -> list[SiteSummary]:
    """One summary per catalogued site, in catalogue order (cached per live bucket)."""
    bucket = source.settings.live_bucket_s
    end = bucket_end(source.now_ns(), bucket)

    def compute() -> list[SiteSummary]:
        # Shared with the sensors table and the map: one derivation per bucket for all.
        by_site = states_by_site(sensor_states_shared(source))
        sites = list(source.catalogue.sites)
        if len(sites) == 1:
            return [site_summary(source, sites[0], by_site.get(sites[0], []))]
        # Each site's trend and energy are a few store queries that wait on the database:
        # ten sites one after another took ten round trips (0.9 s of a city's cold overview).
        with ThreadPoolExecutor(max_workers=_SITE_WORKERS,
                                thread_name_prefix="overview-site") as pool:
            return list(pool.map(lambda site: site_summary(source, site,
                                                           by_site.get(site, [])), sites))

    return source.reader.memo(("overview", end), compute, bucket)
