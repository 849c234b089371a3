"""Faults you can switch on, by name, to see how ingest, alerts and dashboards cope.

Syntax of a fault plan (the `--faults` option), faults separated by commas::

    KIND[:TARGET][~RATE][@START[/DURATION]]

    KIND      silent | stuck | spikes | implausible | meter_reset      (in the readings)
              duplicates | out_of_order | malformed                     (in the messages)
    TARGET    a sensor id, or * for every sensor the fault applies to (the default); a
              bare number such as 0.01 means * at that rate
    RATE      chance per reading (spikes, implausible) or per message (duplicates,
              out_of_order, malformed), 0 < RATE <= 1; default 0.01
    START     ISO 8601 date-time (UTC unless it carries an offset) or +DURATION after the
              run's start; default: the whole run
    DURATION  e.g. 30m, 2h, 1d; default: until the end of the run

What each does:

- silent: the sensor sends nothing inside the window.
- stuck: the sensor repeats the value it had when the window opened (a flat line).
- spikes: single readings jump by 15-40 % of the sensor's plausible range, then recover;
  a spike stays inside the range (`Sensor.is_plausible`, the rule the ingest marks by).
- implausible: a reading outside the sensor's plausible range; without a RATE it happens
  once, at START or, without START, in the middle of the run (an hour in if it is endless).
- meter_reset: a cumulative meter restarts from 0 once (at START or in the middle of the
  run) and counts on from there. Only meters (roles *_energy) reset; spikes and implausible
  values leave meters alone, because those would make a counter run backwards.
- duplicates: a message is sent twice in a row.
- out_of_order: a message is held back and sent after the next message on its topic.
- malformed: the payload is broken: cut short, not JSON, a value of the wrong type (a
  TTN decoded_payload that is a string), or SenML records without any name.

Example: ``silent:pv_facade_ne_power@2025-06-01T10:00/2h,stuck:room_sitzungssaal_co2,
spikes:weather_air_temperature~0.05,meter_reset:grid_import_energy,duplicates:*,
malformed:0.01``.

Value faults act on the generated readings (`apply_value_faults`); message faults act where
messages are built (`simulators.messages`). Every fault injected is recorded as an
`InjectedFault`, so summaries and tests can see it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import numpy as np

from simulators.calendar import FloatArray, IntArray
from simulators.noise import Streams
from simulators.timespec import format_duration, parse_duration, parse_instant
from stadtpuls.catalogue.models import Catalogue, Role, Sensor
from stadtpuls.timebase import NS_PER_HOUR, NS_PER_S, to_ns


class FaultKind(StrEnum):
    SILENT = "silent"
    STUCK = "stuck"
    SPIKES = "spikes"
    IMPLAUSIBLE = "implausible"
    METER_RESET = "meter_reset"
    DUPLICATES = "duplicates"
    OUT_OF_ORDER = "out_of_order"
    MALFORMED = "malformed"


VALUE_FAULTS = frozenset(
    {FaultKind.SILENT, FaultKind.STUCK, FaultKind.SPIKES, FaultKind.IMPLAUSIBLE,
     FaultKind.METER_RESET}
)
MESSAGE_FAULTS = frozenset({FaultKind.DUPLICATES, FaultKind.OUT_OF_ORDER, FaultKind.MALFORMED})
_RATED = frozenset({FaultKind.SPIKES, FaultKind.IMPLAUSIBLE} | MESSAGE_FAULTS)
_ONE_SHOT = frozenset({FaultKind.IMPLAUSIBLE, FaultKind.METER_RESET})
_DEFAULT_RATE = 0.01
METER_ROLES = frozenset(
    {Role.PV_ENERGY, Role.CONSUMPTION_ENERGY, Role.GRID_IMPORT_ENERGY, Role.GRID_EXPORT_ENERGY}
)


class FaultPlanError(ValueError):
    """A fault plan that cannot be used; the message says what to write instead."""


@dataclass(frozen=True)
class InjectedFault:
    """One fault that happened: which sensor, what, when (epoch ns) and a short detail."""

    site: str
    sensor: str
    kind: FaultKind
    time_ns: int
    detail: str = ""


@dataclass(frozen=True)
class FaultSpec:
    kind: FaultKind
    sensor: str | None = None
    """None means every sensor the kind applies to."""
    rate: float | None = None
    start: datetime | timedelta | None = None
    """An instant, or an offset from the run's start."""
    duration: timedelta | None = None
    text: str = ""

    @property
    def effective_rate(self) -> float:
        return self.rate if self.rate is not None else _DEFAULT_RATE

    @property
    def one_shot(self) -> bool:
        return self.kind in _ONE_SHOT and self.rate is None

    def applies_to(self, sensor: Sensor) -> bool:
        if self.sensor is not None and self.sensor != sensor.id:
            return False
        is_meter = sensor.role in METER_ROLES
        if self.kind is FaultKind.METER_RESET:
            return is_meter
        if self.kind in (FaultKind.SPIKES, FaultKind.IMPLAUSIBLE):
            return not is_meter
        return True

    def window_ns(self, run_start_ns: int, run_end_ns: int | None) -> tuple[int, int | None]:
        """[from, to) in epoch ns; `to` None means open-ended. One-shots give from == to."""
        if isinstance(self.start, datetime):
            lo = to_ns(self.start)
        elif isinstance(self.start, timedelta):
            lo = run_start_ns + int(self.start.total_seconds() * NS_PER_S)
        elif self.one_shot:
            middle = ((run_end_ns - run_start_ns) // 2 if run_end_ns is not None
                      else NS_PER_HOUR)
            lo = run_start_ns + middle
        else:
            lo = run_start_ns
        if self.one_shot:
            return lo, lo
        hi = lo + int(self.duration.total_seconds() * NS_PER_S) if self.duration else None
        return lo, hi


@dataclass(frozen=True)
class FaultPlan:
    """Parsed fault plan, anchored to a run (its start and optional end) once known."""

    specs: tuple[FaultSpec, ...] = ()
    run_start: datetime | None = None
    run_end: datetime | None = None

    @classmethod
    def parse(cls, text: str | None) -> FaultPlan:
        if not text or not text.strip():
            return cls()
        return cls(tuple(_parse_one(item.strip()) for item in text.split(",") if item.strip()))

    def for_run(self, start: datetime, end: datetime | None) -> FaultPlan:
        return replace(self, run_start=start, run_end=end)

    @property
    def value_specs(self) -> list[FaultSpec]:
        return [s for s in self.specs if s.kind in VALUE_FAULTS]

    @property
    def message_specs(self) -> list[FaultSpec]:
        return [s for s in self.specs if s.kind in MESSAGE_FAULTS]

    def check(self, catalogue: Catalogue, sites: list[str]) -> None:
        """Raise FaultPlanError if a fault names a sensor the sites lack or cannot take."""
        sensors = {s.id: s for site in sites for _, s in catalogue.sensors(site)}
        for spec in self.specs:
            if spec.sensor is None:
                continue
            sensor = sensors.get(spec.sensor)
            if sensor is None:
                close = difflib.get_close_matches(spec.sensor, list(sensors), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise FaultPlanError(
                    f"fault {spec.text!r}: no sensor {spec.sensor!r} in site(s) "
                    f"{', '.join(sites)}{hint}"
                )
            if not spec.applies_to(sensor):
                if spec.kind is FaultKind.METER_RESET:
                    why = "only cumulative meters (roles ending in _energy) can be reset"
                else:
                    why = f"{spec.kind} would make the cumulative meter run backwards"
                raise FaultPlanError(f"fault {spec.text!r}: {why}; {sensor.id} has role "
                                     f"{sensor.role}")

    def describe(self) -> str:
        return ",".join(s.text for s in self.specs)


def _parse_one(item: str) -> FaultSpec:
    head, has_when, when = item.partition("@")
    kind_text, _, target = head.partition(":")
    target, has_rate, rate_text = target.partition("~")
    try:
        kind = FaultKind(kind_text.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        close = difflib.get_close_matches(kind_text, [k.value for k in FaultKind], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise FaultPlanError(f"unknown fault {kind_text!r} in {item!r}{hint}; "
                             f"known faults: {known}") from None
    sensor: str | None = target.strip() or None
    rate: float | None = None
    if sensor is not None and _is_number(sensor):
        rate, sensor = _rate(sensor, item), None
    if sensor == "*":
        sensor = None
    if has_rate:
        rate = _rate(rate_text, item)
    if rate is not None and kind not in _RATED:
        raise FaultPlanError(f"fault {item!r}: {kind} takes no rate; rates apply to "
                             f"{', '.join(sorted(k.value for k in _RATED))}")
    start: datetime | timedelta | None = None
    duration: timedelta | None = None
    if has_when:
        start_text, has_duration, duration_text = when.partition("/")
        try:
            if start_text.startswith("+"):
                start = parse_duration(start_text[1:]) if start_text[1:] else timedelta(0)
            else:
                start = parse_instant(start_text)
            duration = parse_duration(duration_text) if has_duration else None
        except ValueError as exc:
            raise FaultPlanError(f"fault {item!r}: {exc}") from None
        if duration is not None and kind in _ONE_SHOT and rate is None:
            raise FaultPlanError(f"fault {item!r}: {kind} happens once; give no duration "
                                 "(or a rate, for implausible)")
    return FaultSpec(kind, sensor, rate, start, duration, item)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rate(text: str, item: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultPlanError(f"fault {item!r}: rate {text!r} is not a number") from None
    if not 0.0 < value <= 1.0:
        raise FaultPlanError(f"fault {item!r}: rate must be above 0 and at most 1, "
                             f"not {value:g}")
    return value


@dataclass
class FaultCarry:
    """What value faults remember from one chunk of a run to the next."""

    stuck: dict[tuple[int, str], float] = field(default_factory=dict)
    """Value held by each (spec index, sensor) stuck fault."""
    reset_offset: dict[str, float] = field(default_factory=dict)
    """Per meter: true reading minus shown reading, after a meter reset."""
    begun: set[tuple[int, str]] = field(default_factory=set)
    """(spec index, sensor) faults already under way: recorded once, one-shots done."""


@dataclass(frozen=True)
class SensorSlot:
    """One sensor's readings, as value faults need them."""

    site: str
    sensor: Sensor
    times_ns: IntArray
    values: FloatArray
    period_s: int


def apply_value_faults(
    slot: SensorSlot, plan: FaultPlan, run: tuple[int, int | None], streams: Streams,
    carry: FaultCarry,
) -> tuple[IntArray, FloatArray, list[InjectedFault]]:
    """Apply the plan's value faults to one sensor's readings; return what is left to send."""
    times, values = slot.times_ns, slot.values.copy()
    sensor = slot.sensor
    injected: list[InjectedFault] = []
    keep = np.ones(times.size, dtype=bool)
    if sensor.role in METER_ROLES:
        values = _meter_resets(slot, values, plan, run, carry, injected)
    for index, spec in enumerate(plan.value_specs):
        if not spec.applies_to(sensor) or spec.kind is FaultKind.METER_RESET:
            continue
        lo, hi = spec.window_ns(*run)
        inside = (times >= lo) & (times < hi if hi is not None else True)
        if spec.one_shot:
            inside = np.zeros(times.size, dtype=bool)
            hits = np.flatnonzero(times >= lo)
            if hits.size and (index, sensor.id) not in carry.begun:
                inside[hits[0]] = True
        if not inside.any():
            continue
        where = np.flatnonzero(inside)
        first_ns = int(times[where[0]])
        # A window fault is recorded once, where it begins, even if a run goes in chunks.
        begins = (index, sensor.id) not in carry.begun
        carry.begun.add((index, sensor.id))
        until = "the end of the run" if hi is None else _iso(hi)
        if spec.kind is FaultKind.SILENT:
            keep &= ~inside
            if begins:
                injected.append(InjectedFault(slot.site, sensor.id, spec.kind, first_ns,
                                              f"no readings until {until}"))
        elif spec.kind is FaultKind.STUCK:
            held = carry.stuck.setdefault((index, sensor.id), float(values[where[0]]))
            values[inside] = held
            if begins:
                injected.append(InjectedFault(slot.site, sensor.id, spec.kind, first_ns,
                                              f"stuck at {held:g} until {until}"))
        else:
            hit = where if spec.one_shot else _draw(slot, spec, index, streams, where)
            low, high = sensor.plausible.min, sensor.plausible.max
            span = high - low
            for i in hit:
                if spec.kind is FaultKind.IMPLAUSIBLE:
                    above = values[i] - low > span / 2 or low >= 0
                    new = high + 0.25 * span if above else low - 0.25 * span
                else:
                    size, direction = streams.uniform(
                        f"fault:spikes:size:{slot.site}:{sensor.id}",
                        2 * (int(times[i]) // NS_PER_S // slot.period_s), 2,
                    )
                    # A spike is odd but plausible (the implausible fault is the other kind):
                    # at most 40 % of the range, so one direction always stays inside it.
                    jump = (0.15 + 0.25 * size) * span
                    up, down = values[i] + jump, values[i] - jump
                    go_up = direction >= 0.5 and sensor.is_plausible(up)
                    new = up if go_up or not sensor.is_plausible(down) else down
                detail = f"{values[i]:.6g} -> {new:.6g}"
                values[i] = new
                injected.append(InjectedFault(slot.site, sensor.id, spec.kind, int(times[i]),
                                              detail))
    return times[keep], values[keep], injected


def _draw(
    slot: SensorSlot, spec: FaultSpec, index: int, streams: Streams, where: IntArray
) -> IntArray:
    times_s = slot.times_ns[where] // NS_PER_S
    u = streams.white_uniform(f"fault:{spec.kind}:{index}:{slot.site}:{slot.sensor.id}",
                              times_s, slot.period_s)
    hit: IntArray = where[u < spec.effective_rate]
    return hit


def _meter_resets(
    slot: SensorSlot, values: FloatArray, plan: FaultPlan, run: tuple[int, int | None],
    carry: FaultCarry, injected: list[InjectedFault],
) -> FloatArray:
    times = slot.times_ns
    sensor_id = slot.sensor.id
    offset = np.full(times.size, carry.reset_offset.get(sensor_id, 0.0))
    for index, spec in enumerate(plan.value_specs):
        if spec.kind is not FaultKind.METER_RESET or not spec.applies_to(slot.sensor):
            continue
        lo, _ = spec.window_ns(*run)
        hits = np.flatnonzero(times >= lo)
        if not hits.size or (index, sensor_id) in carry.begun:
            continue
        carry.begun.add((index, sensor_id))  # once per run, even across chunks
        at = int(hits[0])
        offset[at:] = values[at]
        injected.append(InjectedFault(slot.site, sensor_id, spec.kind, int(times[at]),
                                      f"counter {values[at]:g} -> 0"))
    if offset.size:
        carry.reset_offset[sensor_id] = float(offset[-1])
    result: FloatArray = values - offset
    return result


def _iso(time_ns: int) -> str:
    return datetime.fromtimestamp(time_ns / NS_PER_S, tz=UTC).isoformat(timespec="seconds")


def describe_window(spec: FaultSpec) -> str:
    if spec.start is None:
        return "whole run"
    start = f"+{format_duration(spec.start)}" if isinstance(spec.start, timedelta) else (
        spec.start.isoformat())
    return start if spec.duration is None else f"{start}/{format_duration(spec.duration)}"
