"""What the health derivation needs from the store, in a few aggregate queries per round.

Shared by the dashboard (through its cache) and the alert evaluator: the newest readings
(given, because the dashboard looks them up in two steps), one MIN/MAX/COUNT aggregate per
stuck-window length and one COUNT query per completeness-window length, whatever the number
of sensors. No raw scans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from stadtpuls.catalogue.models import Catalogue, Sensor
from stadtpuls.health import (
    SOLAR_ROLES,
    Health,
    HealthLimits,
    WindowStats,
    assess,
    completeness,
    stuck_checked,
    stuck_window_s,
)
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.state.rows import SeriesState
from stadtpuls.store.protocol import Aggregate, WindowSeries
from stadtpuls.sun import sun_down_during
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity

DEVICE_QUANTITIES = (Quantity.BATTERY, Quantity.RSSI, Quantity.SNR)
"""Health readings of a device, stored under sensor id = device id (ttn-v3) or the sensor's."""

LimitsFor = Callable[[str, Sensor], HealthLimits]


class WindowReader(Protocol):
    """The two store queries health needs (a `StoreReader` has them; so can a cache)."""

    def aggregate(self, series: Iterable[SeriesKey], start_ns: int, end_ns: int,
                  window_ns: int, aggregates: Sequence[Aggregate], *,
                  offset_ns: int = 0) -> dict[SeriesKey, WindowSeries]: ...

    def counts(self, start_ns: int, end_ns: int,
               site: str | None = None) -> dict[SeriesKey, int]: ...


@dataclass(frozen=True)
class SensorHealth:
    """A catalogued sensor's health at one instant, with every input that decided it."""

    site: str
    sensor: Sensor
    last: Reading | None
    age_s: float | None
    stats: WindowStats | None
    """MIN/MAX/COUNT over the stuck window."""
    completeness: float | None
    battery: float | None
    rssi: float | None
    sun_down: bool
    limits: HealthLimits
    status: Health

    @property
    def key(self) -> SeriesKey:
        return SeriesKey(self.site, self.sensor.id, self.sensor.quantity)


def device_values(site: str, sensor: Sensor,
                  latest: Mapping[SeriesKey, Reading]) -> dict[Quantity, Reading]:
    """The newest battery / RSSI / SNR readings of the sensor or of its device."""
    out: dict[Quantity, Reading] = {}
    for owner in (sensor.id, sensor.device):
        if owner:
            for q in DEVICE_QUANTITIES:
                reading = latest.get(SeriesKey(site, owner, q))
                if reading is not None:
                    out.setdefault(q, reading)
    return out


def gather(
    reader: WindowReader,
    catalogue: Catalogue,
    latest: Mapping[SeriesKey, Reading],
    *,
    now_ns: int,
    window_end_ns: int,
    limits_for: LimitsFor,
    site: str | None = None,
    state: Mapping[SeriesKey, SeriesState] | None = None,
) -> list[SensorHealth]:
    """Health of every catalogued sensor (of one site), catalogue order.

    `now_ns` measures ages; windows end at `window_end_ns` (the dashboard rounds it up to
    its cache bucket so viewers share the query; the evaluator passes `now_ns`). With
    `state` (`stadtpuls.state`), a sensor whose snapshot answers its windows takes the stuck
    and completeness figures from it (windows end at the snapshot's `end_ns`); only the
    others cost store queries.
    """
    state = state or {}
    sensors = [(s, sensor, limits_for(s, sensor)) for s, sensor in catalogue.sensors(site)]
    snap_stats, snap_counts, rest_stuck, rest_full = _from_state(sensors, state)
    stats = {**_stuck_stats(reader, rest_stuck, window_end_ns), **snap_stats}
    counts = _counts(reader, rest_full, window_end_ns, site)
    # Only devices that report battery / RSSI / SNR are looked up for them (10,000 sensors
    # would otherwise cost 60,000 look-ups a round).
    reporting = {(k.site, k.sensor) for k in latest if k.quantity in DEVICE_QUANTITIES}
    out: list[SensorHealth] = []
    for site_id, sensor, limits in sensors:
        key = SeriesKey(site_id, sensor.id, sensor.quantity)
        last = latest.get(key)
        age = None if last is None else max(0.0, (now_ns - last.time_ns) / NS_PER_S)
        window_s = stuck_window_s(sensor, limits)
        snap = state.get(key)
        end_ns = snap.end_ns if snap is not None and key in snap_stats else window_end_ns
        entry = catalogue.sites[site_id].location
        # Only solar sensors care whether the sun was down (and pvlib is costly to ask).
        dark = sensor.role in SOLAR_ROLES and sun_down_during(
            entry.lat, entry.lon, entry.altitude_m,
            end_ns - int(window_s * NS_PER_S), end_ns)
        full = counts.get(limits.completeness_window_s, {})
        n = snap_counts[key] if key in snap_counts else full.get(key, 0)
        complete = completeness(n, limits.completeness_window_s, sensor.interval_s)
        device = (device_values(site_id, sensor, latest)
                  if (site_id, sensor.id) in reporting or (site_id, sensor.device) in reporting
                  else {})
        battery = device[Quantity.BATTERY].value if Quantity.BATTERY in device else None
        rssi = device[Quantity.RSSI].value if Quantity.RSSI in device else None
        status = assess(sensor, age_s=age, implausible=bool(last and last.implausible),
                        stats=stats.get(key), completeness_value=complete, battery=battery,
                        sun_down=dark, limits=limits)
        out.append(SensorHealth(site_id, sensor, last, age, stats.get(key), complete,
                                battery, rssi, dark, limits, status))
    return out


def _from_state(
    sensors: list[tuple[str, Sensor, HealthLimits]], state: Mapping[SeriesKey, SeriesState],
) -> tuple[dict[SeriesKey, WindowStats], dict[SeriesKey, int],
           list[tuple[str, Sensor, HealthLimits]], list[tuple[str, Sensor, HealthLimits]]]:
    """Figures the snapshots answer, and the sensors left for raw queries (stuck, counts)."""
    stats: dict[SeriesKey, WindowStats] = {}
    counts: dict[SeriesKey, int] = {}
    rest_stuck: list[tuple[str, Sensor, HealthLimits]] = []
    rest_full: list[tuple[str, Sensor, HealthLimits]] = []
    for entry in sensors:
        site_id, sensor, limits = entry
        key = SeriesKey(site_id, sensor.id, sensor.quantity)
        snap = state.get(key)
        if stuck_checked(sensor, limits):
            fig = snap.stuck if snap is not None else None
            if fig is not None and fig.window_s == stuck_window_s(sensor, limits):
                if fig.count:
                    stats[key] = WindowStats(fig.count, fig.min, fig.max)
            else:
                rest_stuck.append(entry)
        if limits.completeness_enabled:
            fig = snap.completeness if snap is not None else None
            if fig is not None and fig.window_s == limits.completeness_window_s:
                counts[key] = fig.count
            else:
                rest_full.append(entry)
    return stats, counts, rest_stuck, rest_full


def _stuck_stats(reader: WindowReader, sensors: list[tuple[str, Sensor, HealthLimits]],
                 end_ns: int) -> dict[SeriesKey, WindowStats]:
    by_window: dict[int, list[SeriesKey]] = {}
    for site_id, sensor, limits in sensors:
        if stuck_checked(sensor, limits):
            window_ns = int(stuck_window_s(sensor, limits) * NS_PER_S)
            by_window.setdefault(window_ns, []).append(
                SeriesKey(site_id, sensor.id, sensor.quantity))
    out: dict[SeriesKey, WindowStats] = {}
    wanted = (Aggregate.MIN, Aggregate.MAX, Aggregate.COUNT)
    for window_ns, keys in by_window.items():
        start = end_ns - window_ns
        # One window exactly [start, end): windows are aligned to epoch + offset.
        result = reader.aggregate(keys, start, end_ns, window_ns, wanted,
                                  offset_ns=start % window_ns)
        for key, series in result.items():
            if series.times:
                v = series.values
                out[key] = WindowStats(int(v[Aggregate.COUNT][-1]), v[Aggregate.MIN][-1],
                                       v[Aggregate.MAX][-1])
    return out


def _counts(reader: WindowReader, sensors: list[tuple[str, Sensor, HealthLimits]],
            end_ns: int, site: str | None) -> dict[float, dict[SeriesKey, int]]:
    windows = {limits.completeness_window_s for _, _, limits in sensors
               if limits.completeness_enabled}
    return {w: reader.counts(end_ns - int(w * NS_PER_S), end_ns, site) for w in windows}
