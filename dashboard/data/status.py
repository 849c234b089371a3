"""Sensor health: ok / late / silent / implausible, from the last reading and `interval_s`.

Thresholds (age = now − time of the newest reading, I = the sensor's `interval_s`,
G = min(5 s, 0.1·I), a grace for transport and batching delays):

- ok:          age ≤ 1.25·I + G
- late:        1.25·I + G < age ≤ 1.6·I + G   (the next reading is overdue)
- silent:      age > 1.6·I + G, or no reading at all
- implausible: the newest reading is marked implausible and the sensor is not late/silent

A reading that is one interval overdue is unusual but not yet alarming; missing the next
one by 60 % of an interval means it did not come. Silent at 1.6·I (not 2·I) leaves room for
the page refresh and cache bucket, so a sensor that stops shows as silent within 2·I of its
last reading. The newest reading is looked for in the last two days, then (cached for five
minutes) in the whole store, so long-dead sensors still show when they were last seen;
readings dated more than `FUTURE_SKEW_S` after now are left out of both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dashboard.data.cache import bucket_end
from dashboard.data.source import DataSource
from stadtpuls.catalogue import Sensor
from stadtpuls.pipeline import PIPELINE_SITE
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity

LATE_FACTOR = 1.25
SILENT_FACTOR = 1.6
GRACE_MAX_S = 5.0
GRACE_FRACTION = 0.1

_RECENT_S = 2 * 86_400
# The ingest refuses readings more than 5 minutes ahead (--max-future-s, default 300 s); one
# dated further ahead (stored before that rule, or by another writer) is not "current": it
# would keep a dead sensor "ok" until its date.
FUTURE_SKEW_S = 300
_ALL_TIME_TTL_S = 300.0
_COUNTS_BUCKET_S = 60.0
_DEVICE_QUANTITIES = (Quantity.BATTERY, Quantity.RSSI, Quantity.SNR)


class Status(StrEnum):
    OK = "ok"
    LATE = "late"
    SILENT = "silent"
    IMPLAUSIBLE = "implausible"
    UNREGISTERED = "unregistered"


# Worst first: a map marker standing for several sensors shows the worst of them.
SEVERITY = [Status.SILENT, Status.LATE, Status.IMPLAUSIBLE, Status.UNREGISTERED, Status.OK]


def grace_s(interval_s: float) -> float:
    return min(GRACE_MAX_S, GRACE_FRACTION * interval_s)


def classify(age_s: float | None, interval_s: float, implausible: bool = False) -> Status:
    """Status of a catalogued sensor whose newest reading is `age_s` old (None: never seen)."""
    if age_s is None:
        return Status.SILENT
    grace = grace_s(interval_s)
    if age_s > SILENT_FACTOR * interval_s + grace:
        return Status.SILENT
    if age_s > LATE_FACTOR * interval_s + grace:
        return Status.LATE
    return Status.IMPLAUSIBLE if implausible else Status.OK


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


def latest_readings(source: DataSource) -> dict[SeriesKey, Reading]:
    """Newest reading of every series (all sites), shared by every page in one bucket;
    readings dated after now (plus the skew the ingest allows) are not current values."""
    bucket_s = source.settings.live_bucket_s
    end = bucket_end(source.now_ns(), bucket_s)
    return source.reader.latest(None, end - _RECENT_S * NS_PER_S, ttl_s=bucket_s,
                                until_ns=end + FUTURE_SKEW_S * NS_PER_S)


def _all_time_latest(source: DataSource) -> dict[SeriesKey, Reading]:
    end = bucket_end(source.now_ns(), _ALL_TIME_TTL_S)
    return source.reader.latest(None, None, ttl_s=_ALL_TIME_TTL_S,
                                until_ns=end + FUTURE_SKEW_S * NS_PER_S)


def counts_24h(source: DataSource) -> dict[SeriesKey, int]:
    end = bucket_end(source.now_ns(), _COUNTS_BUCKET_S)
    return source.reader.counts(end - 86_400 * NS_PER_S, end, None, ttl_s=_COUNTS_BUCKET_S)


def sensor_states(
    source: DataSource, *, site: str | None = None, with_completeness: bool = True
) -> list[SensorState]:
    """Every catalogued sensor (catalogue order), then every unregistered series seen."""
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
    counts = counts_24h(source) if with_completeness else {}

    def age(reading: Reading | None) -> float | None:
        return None if reading is None else max(0.0, (now - reading.time_ns) / NS_PER_S)

    states: list[SensorState] = []
    attached: set[SeriesKey] = set()
    for site_id, sensor in catalogued:
        key = SeriesKey(site_id, sensor.id, sensor.quantity)
        last = latest.get(key)
        device_values: dict[Quantity, float] = {}
        for owner in (sensor.id, sensor.device):
            for q in _DEVICE_QUANTITIES:
                extra = latest.get(SeriesKey(site_id, owner, q)) if owner else None
                if extra is not None:
                    device_values.setdefault(q, extra.value)
                    attached.add(extra.key)
        completeness = None
        if with_completeness:
            expected = 86_400 / sensor.interval_s
            completeness = counts.get(key, 0) / expected
        states.append(SensorState(
            site_id, sensor.id, sensor.quantity, sensor, last, age(last),
            classify(age(last), sensor.interval_s, bool(last and last.implausible)),
            completeness, device_values.get(Quantity.BATTERY), device_values.get(Quantity.RSSI),
        ))
    known = {s.key for s in states} | attached
    for key in sorted(latest):
        if key in known or key.site == PIPELINE_SITE or (site and key.site != site):
            continue
        last = latest[key]
        states.append(SensorState(key.site, key.sensor, key.quantity, None, last, age(last),
                                  Status.UNREGISTERED, None))
    return states


def status_counts(states: list[SensorState]) -> dict[Status, int]:
    """Catalogued sensors per status (unregistered ones are not counted)."""
    counts = dict.fromkeys(
        (Status.OK, Status.LATE, Status.SILENT, Status.IMPLAUSIBLE), 0
    )
    for state in states:
        if state.status in counts:
            counts[state.status] += 1
    return counts
