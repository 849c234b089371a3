"""Which rule conditions hold right now: pure functions from health and rules to triggers.

A condition is FIRE (start or keep an alert), CLEAR (resolve it) or HOLD (keep whatever state
the alert is in). HOLD is the hysteresis band of threshold and battery rules — between the
firing level and the clear level nothing changes, so a value flapping around the firing
level makes one alert, not many — and it is what a rule says when it cannot judge (a
threshold on a silent sensor: the no-data rule speaks for that one).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from stadtpuls.catalogue.alerts import PipelineRules, ResolvedRules, ThresholdRule
from stadtpuls.health import Health, freshness, is_stuck, silent_after_s
from stadtpuls.health_inputs import SensorHealth
from stadtpuls.pipeline import PIPELINE_SITE, PipelineFigure, split_pipeline_sensor
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.timebase import NS_PER_S

STORE_SENSOR = "store"
SCREEN_PREFIX = "kiosk/"
"""Sensor id of a lobby screen's alert: `kiosk/<screen>` at site `_pipeline`."""


class Trigger(Enum):
    FIRE = "fire"
    HOLD = "hold"
    CLEAR = "clear"


@dataclass(frozen=True)
class Condition:
    rule: str
    """Rule id: no_data, stuck, implausible, completeness, battery, threshold:<name>, or a
    pipeline rule (store_unreachable, spool_growing, ingest_not_reporting,
    kiosk_not_reporting)."""
    site: str
    sensor: str
    trigger: Trigger
    severity: str
    for_s: float
    value: float | None = None
    detail: str = ""
    since_ns: int | None = None
    """When the condition began, where the data says so (a silent sensor: its last reading
    plus the silence threshold). A new alert's wait time counts from there, so an evaluator
    that starts (or restarts) next to a sensor silent for longer than the wait fires at once.
    The last reading comes from the store within the evaluator's look-back (an hour), from
    the ingest's snapshots beyond it; without either the wait counts from the first round."""


def _fire(flag: bool) -> Trigger:
    return Trigger.FIRE if flag else Trigger.CLEAR


def sensor_conditions(h: SensorHealth, rules: ResolvedRules) -> Iterator[Condition]:
    site, sensor = h.site, h.sensor.id
    fresh = freshness(h.age_s, h.sensor.interval_s)
    value = h.last.value if h.last is not None else None
    if rules.no_data is not None:
        onset = (None if h.last is None
                 else h.last.time_ns + int(silent_after_s(h.sensor.interval_s) * NS_PER_S))
        yield Condition("no_data", site, sensor, _fire(fresh is Health.SILENT),
                        rules.no_data.severity, rules.no_data.for_s, value, since_ns=onset)
    if rules.stuck is not None:
        yield Condition("stuck", site, sensor, _fire(is_stuck(h.sensor, h.stats, h.limits,
                                                              h.sun_down)),
                        rules.stuck.severity, rules.stuck.for_s, value)
    if rules.implausible is not None:
        flag = fresh is not Health.SILENT and h.last is not None and h.last.implausible
        yield Condition("implausible", site, sensor, _fire(flag), rules.implausible.severity,
                        rules.implausible.for_s, value)
    if rules.completeness is not None and h.completeness is not None:
        trigger = (Trigger.HOLD if fresh is Health.SILENT  # the no-data alert says it better
                   else _fire(h.completeness < rules.completeness.below))
        yield Condition("completeness", site, sensor, trigger, rules.completeness.severity,
                        rules.completeness.for_s, round(h.completeness, 3))
    if rules.battery is not None and h.battery is not None:
        b = rules.battery
        trigger = (Trigger.FIRE if h.battery < b.below
                   else Trigger.CLEAR if h.battery >= b.clear else Trigger.HOLD)
        yield Condition("battery", site, sensor, trigger, b.severity, b.for_s, h.battery)
    usable = fresh is not Health.SILENT and h.last is not None and not h.last.implausible
    for rule in rules.threshold:
        trigger = threshold_trigger(rule, value) if usable else Trigger.HOLD
        yield Condition(rule.rule_id, site, sensor, trigger, rule.severity, rule.for_s, value)


def threshold_trigger(rule: ThresholdRule, value: float | None) -> Trigger:
    if value is None:
        return Trigger.HOLD
    if rule.above is not None:
        clear = rule.clear if rule.clear is not None else rule.above
        return (Trigger.FIRE if value > rule.above
                else Trigger.CLEAR if value <= clear else Trigger.HOLD)
    assert rule.below is not None  # the model requires exactly one of above / below
    clear = rule.clear if rule.clear is not None else rule.below
    return (Trigger.FIRE if value < rule.below
            else Trigger.CLEAR if value >= clear else Trigger.HOLD)


def store_condition(rules: PipelineRules, reachable: bool) -> Condition | None:
    rule = rules.store_unreachable
    if not rule.enabled:
        return None
    return Condition("store_unreachable", PIPELINE_SITE, STORE_SENSOR, _fire(not reachable),
                     rule.severity, rule.for_s)


def pipeline_conditions(rules: PipelineRules, latest: Mapping[SeriesKey, Reading],
                        spool_then: Mapping[str, float], now_ns: int) -> Iterator[Condition]:
    """Per ingest client: not reporting (no figure for `for`), spool growing.

    `latest` holds the ingests' newest figures (site `_pipeline`); `spool_then` each client's
    spool depth `spool_growing.for` ago. The wait is in the measurement itself, so these
    fire at once.
    """
    newest: dict[str, int] = {}
    depth_now: dict[str, float] = {}
    for key, reading in latest.items():
        parts = split_pipeline_sensor(key.sensor) if key.site == PIPELINE_SITE else None
        if parts is None:
            continue
        client, figure = parts
        newest[client] = max(newest.get(client, 0), reading.time_ns)
        if figure == PipelineFigure.SPOOL_DEPTH:
            depth_now[client] = reading.value
    quiet = rules.ingest_not_reporting
    if quiet.enabled:
        for client, time_ns in sorted(newest.items()):
            age_s = (now_ns - time_ns) / NS_PER_S
            yield Condition("ingest_not_reporting", PIPELINE_SITE, client,
                            _fire(age_s > quiet.for_s), quiet.severity, 0.0, round(age_s))
    spool = rules.spool_growing
    if spool.enabled:
        for client, depth in sorted(depth_now.items()):
            before = spool_then.get(client)
            growing = depth > 0 and before is not None and depth > before
            yield Condition("spool_growing", PIPELINE_SITE, client, _fire(growing),
                            spool.severity, 0.0, depth)


def screen_conditions(rules: PipelineRules, screens: Iterable[str],
                      contacts: Mapping[str, int], now_ns: int) -> Iterator[Condition]:
    """Per catalogue screen that has reported before: not polled for `for` seconds.

    `contacts` is each screen's last poll as the dashboard recorded it (alerts.state); a
    screen without one has never reported (not installed yet, or switched off for good) and
    is not judged. Like the ingest rule, the wait is in the measurement, so it fires at once.
    """
    rule = rules.kiosk_not_reporting
    if not rule.enabled:
        return
    for screen in screens:
        last = contacts.get(screen)
        if last is None:
            continue
        age_s = (now_ns - last) / NS_PER_S
        yield Condition("kiosk_not_reporting", PIPELINE_SITE, SCREEN_PREFIX + screen,
                        _fire(age_s > rule.for_s), rule.severity, 0.0, round(age_s))
