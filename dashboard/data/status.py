"""Sensor health on the dashboard: the core's derivation (`stadtpuls.health`) on cached data.

Statuses and their thresholds are documented in `stadtpuls/health.py` (ok, late, silent,
stuck, implausible, incomplete, low battery) and dashboard/README.md; this module only feeds
them from the dashboard's cache. The newest reading is looked for in the last two days, then
(cached for five minutes) in the whole store, so long-dead sensors still show when they were
last seen. Stuck and completeness use one MIN/MAX/COUNT aggregate and one COUNT query per
minute for all sensors, shared by every viewer. Readings dated more than `FUTURE_SKEW_S`
after now are left out: one dated further ahead would keep a dead sensor "ok" until its date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dashboard.data.cache import CachedStore, bucket_end
from dashboard.data.source import DataSource
from stadtpuls.catalogue import Sensor
from stadtpuls.health import SEVERITY, Health, freshness
from stadtpuls.health_inputs import DEVICE_QUANTITIES, gather
from stadtpuls.pipeline import PIPELINE_SITE
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.state.current import current_state
from stadtpuls.state.rows import SeriesState
from stadtpuls.store.protocol import Aggregate, WindowSeries
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity

_RECENT_S = 2 * 86_400
# The ingest refuses readings more than 5 minutes ahead (--max-future-s, default 300 s); one
# dated further ahead (stored before that rule, or by another writer) is not "current": it
# would keep a dead sensor "ok" until its date.
FUTURE_SKEW_S = 300
_ALL_TIME_TTL_S = 300.0
STATE_OVERLAP_S = 300
"""Readings dated up to this long before a snapshot may have arrived after it."""
_WINDOW_BUCKET_S = 60.0
RAW_AFTER_SNAPSHOT_MAX = 1_000
"""Up to this many series the newest readings since the snapshot are read for all of them
(exact to the bucket); InfluxDB pays per series for that query, about 0.5 s for 10,000
even over a minute, so a city's dashboard asks only for the overdue series."""

Status = Health
"""The dashboard's name for the core's health status (one home: `stadtpuls.health`)."""
__all__ = ["SEVERITY", "SensorState", "Status", "sensor_states", "sensor_states_shared",
           "states_by_site", "status_counts"]


@dataclass(frozen=True)
class SensorState:
    site: str
    sensor_id: str
    quantity: Quantity
    sensor: Sensor | None
    """Its catalogue entry; None for an unregistered sensor."""
    last: Reading | None
    age_s: float | None
    status: Status
    completeness: float | None
    """Readings received in the last 24 h over readings expected (0..1, may exceed 1)."""
    battery: float | None = None
    rssi: float | None = None

    @property
    def key(self) -> SeriesKey:
        return SeriesKey(self.site, self.sensor_id, self.quantity)


def sensor_snapshot(source: DataSource) -> dict[SeriesKey, SeriesState]:
    """The ingest's merged sensor state (`stadtpuls.state`), shared in one bucket; empty when
    the store keeps none or the newest is older than `STATE_MAX_AGE_S` (ingest stopped;
    `stadtpuls.state.current`)."""
    bucket_s = source.settings.live_bucket_s
    end = bucket_end(source.now_ns(), bucket_s)
    return source.reader.memo(("sensor-state", end),
                              lambda: current_state(source.reader.store, end), ttl_s=bucket_s)


def latest_readings(source: DataSource) -> dict[SeriesKey, Reading]:
    """Newest reading of every series (all sites), shared by every page in one bucket;
    readings dated after now (plus the skew the ingest allows) are not current values.

    With a sensor state snapshot only the minutes since it are read from the store: for every
    series while the snapshot holds at most `RAW_AFTER_SNAPSHOT_MAX` of them, beyond that only
    for the series the snapshot shows overdue (see `_overdue`)."""
    bucket_s = source.settings.live_bucket_s
    end = bucket_end(source.now_ns(), bucket_s)
    # Shared per bucket like its queries: the sensor, pipeline and status pages each ask,
    # and the merge and the overdue walk cost 10,000 sensors' worth of Python every time.
    return source.reader.memo(("latest-readings", end),
                              lambda: _latest_readings(source, end), bucket_s)


def _latest_readings(source: DataSource, end: int) -> dict[SeriesKey, Reading]:
    bucket_s = source.settings.live_bucket_s
    until = end + FUTURE_SKEW_S * NS_PER_S
    state = sensor_snapshot(source)
    if not state:
        return source.reader.latest(None, end - _RECENT_S * NS_PER_S, ttl_s=bucket_s,
                                    until_ns=until)
    since = min(s.at_ns for s in state.values()) - STATE_OVERLAP_S * NS_PER_S
    out = {k: s.newest for k, s in state.items()
           if s.newest is not None and s.newest.time_ns < until}
    keys = None if len(state) <= RAW_AFTER_SNAPSHOT_MAX else _overdue(source, out, end)
    if keys is not None and len(keys) > len(state) // 2:
        keys = None  # a city-wide outage: one query for all costs less than many
    recent = source.reader.latest(None, since, ttl_s=bucket_s, until_ns=until, keys=keys)
    for key, reading in recent.items():
        held = out.get(key)
        if held is None or reading.time_ns >= held.time_ns:
            out[key] = reading
    return out


def _overdue(source: DataSource, newest: dict[SeriesKey, Reading], now_ns: int
             ) -> list[SeriesKey]:
    """Catalogued series whose snapshot reading is too old for "ok": only a newer reading
    can change what they show. The others' status stands; their value is the snapshot's,
    at most one snapshot interval old."""
    out = []
    for site, sensor in source.catalogue.sensors():
        key = SeriesKey(site, sensor.id, sensor.quantity)
        reading = newest.get(key)
        if reading is None or freshness((now_ns - reading.time_ns) / NS_PER_S,
                                        sensor.interval_s) is not Health.OK:
            out.append(key)
    return out


def _all_time_latest(source: DataSource) -> dict[SeriesKey, Reading]:
    end = bucket_end(source.now_ns(), _ALL_TIME_TTL_S)
    return source.reader.latest(None, None, ttl_s=_ALL_TIME_TTL_S,
                                until_ns=end + FUTURE_SKEW_S * NS_PER_S)


class _Windows:
    """The core's `WindowReader` on the dashboard cache: one minute per shared answer."""

    def __init__(self, reader: CachedStore) -> None:
        self.reader = reader

    def aggregate(self, series: Iterable[SeriesKey], start_ns: int, end_ns: int,
                  window_ns: int, aggregates: Sequence[Aggregate], *,
                  offset_ns: int = 0) -> dict[SeriesKey, WindowSeries]:
        return self.reader.aggregate(series, start_ns, end_ns, window_ns, aggregates,
                                     ttl_s=_WINDOW_BUCKET_S, offset_ns=offset_ns)

    def counts(self, start_ns: int, end_ns: int,
               site: str | None = None) -> dict[SeriesKey, int]:
        return self.reader.counts(start_ns, end_ns, site, ttl_s=_WINDOW_BUCKET_S)


def sensor_states(
    source: DataSource, *, site: str | None = None, with_completeness: bool = True
) -> list[SensorState]:
    """Every catalogued sensor (catalogue order), then every unregistered series seen.

    `with_completeness=False` only leaves the `completeness` figure out of the result; the
    status always takes it into account (it costs one cached query a minute).
    """
    now = source.now_ns()
    latest = latest_readings(source)
    catalogued = list(source.catalogue.sensors(site))
    missing = [
        SeriesKey(s, sensor.id, sensor.quantity)
        for s, sensor in catalogued
        if SeriesKey(s, sensor.id, sensor.quantity) not in latest
    ]
    if missing:
        older = _all_time_latest(source)
        latest = {**{k: older[k] for k in missing if k in older}, **latest}
    healths = gather(_Windows(source.reader), source.catalogue, latest, now_ns=now,
                     window_end_ns=bucket_end(now, _WINDOW_BUCKET_S),
                     limits_for=source.catalogue.alerts.limits_for, site=site,
                     state=sensor_snapshot(source))

    states: list[SensorState] = []
    attached: set[SeriesKey] = set()
    reporting = {(k.site, k.sensor) for k in latest if k.quantity in DEVICE_QUANTITIES}
    for h in healths:
        for owner in (h.sensor.id, h.sensor.device):
            if owner and (h.site, owner) in reporting:
                for q in DEVICE_QUANTITIES:
                    if SeriesKey(h.site, owner, q) in latest:
                        attached.add(SeriesKey(h.site, owner, q))
        states.append(SensorState(
            h.site, h.sensor.id, h.sensor.quantity, h.sensor, h.last, h.age_s, h.status,
            h.completeness if with_completeness else None, h.battery, h.rssi,
        ))
    known = {s.key for s in states} | attached
    # Sorted after filtering: sorting 10,000 keys to keep a handful cost a tenth of a second.
    for key in sorted(k for k in latest if k not in known):
        if key.site == PIPELINE_SITE or (site and key.site != site):
            continue
        last = latest[key]
        age = max(0.0, (now - last.time_ns) / NS_PER_S)
        states.append(SensorState(key.site, key.sensor, key.quantity, None, last, age,
                                  Status.UNREGISTERED, None))
    return states


def sensor_states_shared(source: DataSource) -> list[SensorState]:
    """Every sensor's state (all sites, with completeness), computed once per live bucket
    for all viewers and pages: the sensors table, the map and the overview share it."""
    bucket_s = source.settings.live_bucket_s
    end = bucket_end(source.now_ns(), bucket_s)
    return source.reader.memo(("sensor-states", end), lambda: sensor_states(source), bucket_s)


def states_by_site(states: list[SensorState]) -> dict[str, list[SensorState]]:
    out: dict[str, list[SensorState]] = {}
    for state in states:
        out.setdefault(state.site, []).append(state)
    return out


def status_counts(states: list[SensorState]) -> dict[Status, int]:
    """Catalogued sensors per status (unregistered ones are not counted)."""
    counts: dict[Status, int] = {s: 0 for s in SEVERITY if s is not Status.UNREGISTERED}
    for state in states:
        if state.status in counts:
            counts[state.status] += 1
    return counts
