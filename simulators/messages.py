"""From a simulation to the MQTT messages a site's sensors would send, in time order.

Pure and deterministic: the publisher only paces and sends what this builds. The message
faults of a fault plan (duplicates, out_of_order, malformed) are applied here, and each one
is recorded as an `InjectedFault`.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from simulators import formats
from simulators.faults import FaultKind, FaultPlan, FaultSpec, InjectedFault
from simulators.formats import Format, Radio
from simulators.generate import SiteSimulation
from simulators.noise import Streams
from stadtpuls.catalogue.models import Sensor
from stadtpuls.timebase import NS_PER_S, to_ns

# Frame counters count uplinks since this date, as if every device joined then.
_TTN_JOINED_S = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
_BATTERY_LIFE_S = 2 * 365 * 86_400


@dataclass(frozen=True)
class OutboundMessage:
    """One MQTT publication. `due_ns` is when to send it in simulated time; it differs from
    `time_ns` (the readings' time) only for a message held back by an out_of_order fault."""

    topic: str
    payload: bytes
    time_ns: int
    due_ns: int
    format: Format
    sensors: tuple[str, ...]
    key: str
    fault: str | None = None


@dataclass(frozen=True)
class OutboundBatch:
    messages: list[OutboundMessage]
    faults: list[InjectedFault]


def sensor_format(sensor: Sensor, forced: Format | None) -> Format:
    if forced is None:
        return formats.DECODER_FORMAT[sensor.decoder]
    return Format.JSON if forced is Format.RAW else forced


def build_messages(
    sim: SiteSimulation, forced: Format | None, plan: FaultPlan | None = None
) -> OutboundBatch:
    """Messages of one simulated site, sorted by time; `forced` None = catalogue formats."""
    site = sim.site_id
    streams = Streams(sim.seed)
    use_catalogue_topic = forced is None
    sensors = {s.id: s for s in sim.site.sensors}
    fmt_of = {sid: sensor_format(s, forced) for sid, s in sensors.items()}
    key_of = {sid: _group_key(s, fmt_of[sid], site, use_catalogue_topic)
              for sid, s in sensors.items()}

    ordered = [sim.series[s.id] for s in sim.site.sensors if s.id in sim.series]
    if not ordered:
        return OutboundBatch([], [])
    times = np.concatenate([s.times_ns for s in ordered])
    values = np.concatenate([s.values for s in ordered])
    owner = np.concatenate([np.full(s.times_ns.size, i) for i, s in enumerate(ordered)])
    order = np.lexsort((owner, times))
    period_of = {s.sensor.id: s.period_s for s in ordered}

    messages: list[OutboundMessage] = []
    pending: dict[str, list[tuple[Sensor, float]]] = {}
    current = None
    for t, v, o in zip(times[order].tolist(), values[order].tolist(), owner[order].tolist(),
                       strict=True):
        if t != current:
            messages.extend(_emit(site, current, pending, fmt_of, key_of, period_of, streams,
                                  use_catalogue_topic))
            pending = {}
            current = t
        sensor = ordered[o].sensor
        pending.setdefault(key_of[sensor.id], []).append((sensor, v))
    messages.extend(_emit(site, current, pending, fmt_of, key_of, period_of, streams,
                          use_catalogue_topic))

    plan = plan or FaultPlan()
    run_start = to_ns(plan.run_start) if plan.run_start else to_ns(sim.start)
    run_end = (to_ns(plan.run_end) if plan.run_end else None) if plan.run_start else to_ns(sim.end)
    injected: list[InjectedFault] = []
    for index, spec in enumerate(plan.message_specs):
        chosen = _choose(messages, spec, index, site, streams, (run_start, run_end), period_of)
        messages = _apply(messages, chosen, spec.kind, streams, site, index, injected)
    return OutboundBatch(messages, injected)


def _group_key(sensor: Sensor, fmt: Format, site: str, use_catalogue_topic: bool) -> str:
    if fmt is Format.SENML:
        return f"senml|{formats.senml_topic(site, sensor, use_catalogue_topic)}|" \
               f"{formats.senml_group(sensor)}"
    if fmt is Format.TTN:
        return f"ttn|{formats.ttn_device(sensor)}"
    return f"{fmt}|{sensor.id}"


def _emit(
    site: str, time_ns: int | None, pending: dict[str, list[tuple[Sensor, float]]],
    fmt_of: dict[str, Format], key_of: dict[str, str], period_of: dict[str, int],
    streams: Streams, use_catalogue_topic: bool,
) -> list[OutboundMessage]:
    if time_ns is None:
        return []
    out = []
    for key, entries in pending.items():
        first = entries[0][0]
        fmt = fmt_of[first.id]
        ids = tuple(s.id for s, _ in entries)
        if fmt is Format.JSON:
            topic = formats.json_topic(site, first, use_catalogue_topic)
            payload = formats.json_payload(first, time_ns, entries[0][1])
        elif fmt is Format.RAW:
            topic = formats.json_topic(site, first, use_catalogue_topic)
            payload = formats.raw_payload(first, entries[0][1])
        elif fmt is Format.SENML:
            topic = formats.senml_topic(site, first, use_catalogue_topic)
            payload = formats.senml_payload(site, [(s, time_ns, v) for s, v in entries])
        else:
            device = formats.ttn_device(first)
            period = min(period_of[s.id] for s, _ in entries)
            f_cnt = ((time_ns // NS_PER_S - _TTN_JOINED_S) // period) % 2**32
            topic = formats.ttn_topic(site, device)
            payload = formats.ttn_payload(site, device, entries, time_ns, f_cnt,
                                          _radio(site, device, time_ns, f_cnt, streams))
        out.append(OutboundMessage(topic, payload, time_ns, time_ns, fmt, ids, key))
    return out


def _radio(site: str, device: str, time_ns: int, f_cnt: int, streams: Streams) -> Radio:
    rssi_z, snr_z = streams.normal(f"ttn:{site}:{device}:radio", 2 * f_cnt, 2)
    crc = zlib.crc32(device.encode())
    phase = (crc % 10_000) / 10_000
    used = ((time_ns // NS_PER_S) / _BATTERY_LIFE_S + phase) % 1.0
    return Radio(
        rssi=int(np.clip(round(-96 + 8 * rssi_z), -125, -40)),
        snr=float(np.clip(round(7.0 + 3.0 * snr_z, 1), -20.0, 14.0)),
        battery=round(100 - 80 * used),
        gateway_id=f"{site}-gw-{crc % 3 + 1:02d}",
    )


def _choose(
    messages: list[OutboundMessage], spec: FaultSpec, index: int, site: str, streams: Streams,
    run: tuple[int, int | None], period_of: dict[str, int],
) -> set[int]:
    lo, hi = spec.window_ns(*run)
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, m in enumerate(messages):
        if spec.sensor is not None and spec.sensor not in m.sensors:
            continue
        if m.time_ns < lo or (hi is not None and m.time_ns >= hi):
            continue
        by_key[m.key].append(i)
    chosen: set[int] = set()
    for key, where in by_key.items():
        period = min(period_of[s] for s in messages[where[0]].sensors)
        times_s = np.asarray([messages[i].time_ns // NS_PER_S for i in where], dtype=np.int64)
        u = streams.white_uniform(f"fault:{spec.kind}:{index}:{site}:{key}", times_s, period)
        chosen.update(i for i, x in zip(where, u.tolist(), strict=True)
                      if x < spec.effective_rate)
    return chosen


def _apply(
    messages: list[OutboundMessage], chosen: set[int], kind: FaultKind, streams: Streams, site: str,
    index: int, injected: list[InjectedFault],
) -> list[OutboundMessage]:
    if not chosen:
        return messages
    out: list[OutboundMessage] = []
    held: dict[str, list[OutboundMessage]] = {}
    for i, m in enumerate(messages):
        hit = i in chosen
        if hit and kind is FaultKind.OUT_OF_ORDER:
            held.setdefault(m.topic, []).append(m)
            continue
        if hit and kind is FaultKind.MALFORMED:
            pick = streams.uniform(f"fault:malformed:how:{index}:{site}:{m.key}",
                                   m.time_ns // NS_PER_S, 1)[0]
            payload, how = formats.malform(m.format, m.payload, float(pick))
            m = replace(m, payload=payload, fault=f"malformed:{how}")
            _record(injected, site, m, kind, str(how))
        out.append(m)
        if hit and kind is FaultKind.DUPLICATES:
            out.append(replace(m, fault="duplicate"))
            _record(injected, site, m, kind, "sent twice")
        for late in held.pop(m.topic, []):
            out.append(replace(late, due_ns=m.due_ns, fault="out_of_order"))
            _record(injected, site, late, kind, "sent after the next message on its topic")
    last_due = out[-1].due_ns if out else 0
    for rest in held.values():
        for late in rest:
            out.append(replace(late, due_ns=max(late.due_ns, last_due), fault="out_of_order"))
            _record(injected, site, late, kind, "held back to the end of the batch")
    return out


def _record(
    injected: list[InjectedFault], site: str, m: OutboundMessage, kind: FaultKind, detail: str
) -> None:
    for sensor in m.sensors:
        injected.append(InjectedFault(site, sensor, kind, m.time_ns, detail))
