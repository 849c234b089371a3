"""Catalogue-driven simulation of one site: the pure entry point of the simulators.

`generate(catalogue, site_id, start, end, step, seed)` simulates every sensor of a site from
its catalogue `role` (a new sensor in the YAML needs no code) and returns a
`SiteSimulation`: per-sensor numpy arrays for summaries and benches, the clean physics (PV AC
power per array, building load) on the time grid, and `readings()`, an iterator of
`Reading` in canonical units sorted by time.

Time: the physics runs on a grid of `step` aligned to the Unix epoch, starting one day before
`start` so indoor climate has settled when the window opens. Each sensor reports at its
catalogue `interval_s` rounded up to a whole number of steps, on times that are multiples of
that period (so also epoch-aligned), within [start, end).

Randomness: only from `Streams(seed)`, addressed by absolute time, so the same seed gives
the same data, and any window of a run equals that part of a longer run (except meters,
which start from a plausible reading unless `carry` continues a previous window, and indoor
climate, which settles from equilibrium within the day of warm-up and may differ by one
step of sensor resolution).

Meters (roles ending in _energy) are cumulative Wh counters integrating the power this same
simulation produced, so energy from meters and from power agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from simulators import building, street
from simulators.calendar import BoolArray, Clock, FloatArray, IntArray
from simulators.faults import (
    METER_ROLES,
    FaultCarry,
    FaultPlan,
    InjectedFault,
    SensorSlot,
    apply_value_faults,
)
from simulators.noise import Streams
from simulators.site_models import ROLE_MODELS, SiteModels
from stadtpuls.catalogue.models import Catalogue, Role, Sensor, Site
from stadtpuls.reading import Reading
from stadtpuls.timebase import NS_PER_S, to_ns
from stadtpuls.units import Quantity

_WARM_UP_S = 86_400
_METERS_SINCE = datetime(2018, 1, 1, tzinfo=UTC)

# Resolution of each quantity as sensors report it, in canonical units.
RESOLUTION: dict[Quantity, float] = {
    Quantity.POWER: 1.0,
    Quantity.ENERGY: 1.0,
    Quantity.TEMPERATURE: 0.1,
    Quantity.HUMIDITY: 0.1,
    Quantity.CO2: 1.0,
    Quantity.PM2_5: 0.1,
    Quantity.PM10: 0.1,
    Quantity.NO2: 0.1,
    Quantity.NOISE: 0.1,
    Quantity.COUNT: 1.0,
    Quantity.IRRADIANCE: 0.1,
    Quantity.WIND_SPEED: 0.1,
    Quantity.PRESSURE: 0.1,
    Quantity.VOLTAGE: 0.001,
    Quantity.BATTERY: 1.0,
    Quantity.RSSI: 1.0,
    Quantity.SNR: 0.1,
}


class SimulationError(ValueError):
    """The catalogue asks for something the simulators cannot produce; the message says what."""


@dataclass(frozen=True)
class SensorSeries:
    """One sensor's readings in canonical units, after value faults."""

    site: str
    sensor: Sensor
    period_s: int
    times_ns: IntArray
    values: FloatArray

    def readings(self) -> Iterator[Reading]:
        for t, v in zip(self.times_ns.tolist(), self.values.tolist(), strict=True):
            yield Reading(self.site, self.sensor.id, self.sensor.quantity, t, v)


@dataclass
class Carry:
    """State handed from one window of a run to the next, so a long run can go in chunks."""

    meters: dict[str, float] = field(default_factory=dict)
    """True cumulative Wh of each meter at the window's end."""
    faults: FaultCarry = field(default_factory=FaultCarry)


@dataclass(frozen=True)
class SiteSimulation:
    site_id: str
    site: Site
    start: datetime
    end: datetime
    step_s: int
    seed: int
    times_ns: IntArray
    """The physics grid inside [start, end)."""
    pv_ac_w: dict[str, FloatArray]
    """AC power per PV array id on the grid, before any fault."""
    load_w: FloatArray | None
    """Building load on the grid, or None for a site without a building model."""
    series: dict[str, SensorSeries]
    faults: tuple[InjectedFault, ...]
    carry: Carry

    @property
    def pv_total_w(self) -> FloatArray:
        total: FloatArray = np.zeros(self.times_ns.size)
        for ac in self.pv_ac_w.values():
            total = total + ac
        return total

    def energy_kwh(self, power_w: FloatArray) -> float:
        """Energy of a power series on the grid, in kWh."""
        return float(power_w.sum()) * self.step_s / 3_600_000.0

    def reading_count(self) -> int:
        return sum(s.times_ns.size for s in self.series.values())

    def readings(self) -> Iterator[Reading]:
        """All readings, sorted by time, ties in catalogue order."""
        order_of = {s.id: i for i, s in enumerate(self.site.sensors)}
        ordered = sorted(self.series.values(), key=lambda s: order_of[s.sensor.id])
        if not ordered:
            return
        times = np.concatenate([s.times_ns for s in ordered])
        values = np.concatenate([s.values for s in ordered])
        owner = np.concatenate(
            [np.full(s.times_ns.size, i, dtype=np.int64) for i, s in enumerate(ordered)]
        )
        order = np.lexsort((owner, times))
        meta = [(s.sensor.id, s.sensor.quantity) for s in ordered]
        site = self.site_id
        for t, v, o in zip(
            times[order].tolist(), values[order].tolist(), owner[order].tolist(), strict=True
        ):
            sensor_id, quantity = meta[o]
            yield Reading(site, sensor_id, quantity, t, v)


def generate(
    catalogue: Catalogue,
    site_id: str,
    start: datetime,
    end: datetime,
    step: timedelta,
    seed: int,
    faults: FaultPlan | None = None,
    carry: Carry | None = None,
) -> SiteSimulation:
    """Simulate every sensor of `site_id` in [start, end) on a grid of `step`."""
    site = catalogue.sites.get(site_id)
    if site is None:
        raise SimulationError(f"no site {site_id!r} in the catalogue; sites: "
                              f"{', '.join(catalogue.sites)}")
    step_s = _step_seconds(step)
    check_roles(site_id, site)
    start_ns, end_ns = to_ns(start), to_ns(end)
    if end_ns <= start_ns:
        raise SimulationError(f"end {end.isoformat()} is not after start {start.isoformat()}")
    first = -(-start_ns // (step_s * NS_PER_S)) * step_s  # ceil to the grid, in seconds
    warm = -(-_WARM_UP_S // step_s)
    grid = np.arange(first - warm * step_s, -(-end_ns // NS_PER_S), step_s, dtype=np.int64)
    grid = grid[grid * NS_PER_S < end_ns]
    ctx = SiteModels(site_id, site, Clock.build(grid, site.timezone, site.location.lon),
                   Streams(seed), step_s)
    main = slice(warm, None)
    main_times = grid[main]

    plan = faults or FaultPlan()
    # Fault windows refer to the whole run, which may be longer than this window.
    run: tuple[int, int | None] = (start_ns, end_ns)
    if plan.run_start is not None:
        run = (to_ns(plan.run_start), to_ns(plan.run_end) if plan.run_end else None)
    carry = carry if carry is not None else Carry()
    series: dict[str, SensorSeries] = {}
    injected: list[InjectedFault] = []
    for sensor in site.sensors:
        assert sensor.role is not None  # check_roles
        period = math.ceil(sensor.interval_s / step_s) * step_s
        pick = main_times % period == 0
        times_s = main_times[pick]
        base = ROLE_MODELS[sensor.role](ctx, sensor)[main]
        if sensor.role in METER_ROLES:
            values = _meter(ctx, sensor, base, pick, carry, main_times[0] if main_times.size
                            else first)
        elif sensor.role is Role.BIKE_COUNT:
            noise = ctx.streams.white(ctx.sensor_key(sensor), times_s, period)
            values = street.counts(base[pick], period, noise)
        else:
            values = base[pick]
        values = quantize(sensor.quantity, values)
        slot = SensorSlot(site_id, sensor, times_s * NS_PER_S, values, period)
        times_ns, values, hits = apply_value_faults(slot, plan, run, ctx.streams, carry.faults)
        injected.extend(hits)
        series[sensor.id] = SensorSeries(site_id, sensor, period, times_ns,
                                         quantize(sensor.quantity, values))
    return SiteSimulation(
        site_id=site_id,
        site=site,
        start=start,
        end=end,
        step_s=step_s,
        seed=seed,
        times_ns=main_times * NS_PER_S,
        pv_ac_w={k: v[main] for k, v in ctx.pv.items()},
        load_w=ctx.load[main] if ctx.has_building else None,
        series=series,
        faults=tuple(sorted(injected, key=lambda f: (f.time_ns, f.sensor))),
        carry=carry,
    )


def check_roles(site_id: str, site: Site) -> None:
    """Raise SimulationError naming every sensor the simulators cannot drive."""
    problems = []
    arrays = {a.id for a in site.pv_arrays}
    known = ", ".join(r.value for r in ROLE_MODELS)
    for sensor in site.sensors:
        if sensor.role is None:
            problems.append(f"sensor {site_id}/{sensor.id} has no role; give it one of: {known}")
        elif sensor.role not in ROLE_MODELS:
            problems.append(f"sensor {site_id}/{sensor.id} has role {sensor.role.value!r}, "
                            f"which the simulators do not know; known roles: {known}")
        elif sensor.role in (Role.PV_POWER, Role.PV_ENERGY) and sensor.array not in arrays:
            problems.append(f"sensor {site_id}/{sensor.id} has role {sensor.role.value} but "
                            f"no 'array' naming one of the site's PV arrays")
    if problems:
        raise SimulationError("; ".join(problems))


def quantize(quantity: Quantity, values: FloatArray) -> FloatArray:
    """Round to the sensor resolution of the quantity (what a real device would report)."""
    res = RESOLUTION.get(quantity, 0.001)
    result: FloatArray = np.round(values / res) * res
    if res < 1.0:  # drop binary noise such as 21.400000000000002
        result = np.round(result, max(0, -math.floor(math.log10(res))))
    return result


def _step_seconds(step: timedelta) -> int:
    seconds = step.total_seconds()
    if seconds < 1 or seconds != int(seconds):
        raise SimulationError(f"step must be a whole number of seconds, at least 1, not {step}")
    return int(seconds)


def _meter(
    ctx: SiteModels, sensor: Sensor, power_w: FloatArray, pick: BoolArray, carry: Carry,
    first_s: int,
) -> FloatArray:
    """Cumulative Wh at the sensor's times: start reading plus the integral of power."""
    step_h = ctx.step_s / 3_600.0
    start_wh = carry.meters.get(sensor.id)
    if start_wh is None:
        start_wh = _plausible_start_wh(ctx, sensor, first_s)
    before = np.concatenate(([0.0], np.cumsum(power_w)[:-1])) * step_h
    carry.meters[sensor.id] = start_wh + float(power_w.sum()) * step_h
    result: FloatArray = (start_wh + before)[pick]
    return result


def _plausible_start_wh(ctx: SiteModels, sensor: Sensor, first_s: int) -> float:
    """What the meter might show at the window's start: metering began in 2018."""
    years = max(first_s - _METERS_SINCE.timestamp(), 0.0) / (365.25 * 86_400) + 0.25
    site = ctx.site
    pv_nominal = {a.id: a.peak_power_w * (1_000.0 if a.kind == "roof" else 520.0)
                  for a in site.pv_arrays}
    consumption = building.nominal_annual_wh(site)
    pv_total = sum(pv_nominal.values())
    annual = {
        Role.PV_ENERGY: pv_nominal.get(sensor.array or "", 0.0),
        Role.CONSUMPTION_ENERGY: consumption,
        Role.GRID_IMPORT_ENERGY: max(consumption - 0.83 * pv_total, 0.1 * consumption),
        Role.GRID_EXPORT_ENERGY: max(0.17 * pv_total, 1_000_000.0),
    }[sensor.role or Role.PV_ENERGY]
    return float(round(annual * years))


__all__ = [
    "Carry",
    "SensorSeries",
    "SimulationError",
    "SiteSimulation",
    "check_roles",
    "generate",
    "quantize",
]
