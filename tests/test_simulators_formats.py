"""Wire formats and message faults of the simulators; publishing to the session's Mosquitto.

`check_message` is the format contract the ingest decoders rely on: every message the
simulators send without faults passes it, every malformed one fails it. The golden files in
`tests/simulators_golden/` show the exact bytes (refresh them with
`STADTPULS_UPDATE_GOLDEN=1 pytest tests/test_simulators_formats.py` after a deliberate change).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import queue
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from simulators.faults import FaultKind, FaultPlan
from simulators.formats import SENML_UNITS, Format, to_sensor_unit, unit_of
from simulators.generate import SiteSimulation, generate
from simulators.messages import OutboundMessage, build_messages
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.catalogue.models import Sensor
from stadtpuls.units import to_canonical

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"
GOLDEN = Path(__file__).resolve().parent / "simulators_golden"
HOUR = datetime(2025, 6, 3, 10, tzinfo=UTC)
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FORMATS: list[Format | None] = [None, Format.JSON, Format.SENML, Format.TTN]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE)


@pytest.fixture(scope="module")
def hour(catalogue: Catalogue) -> dict[str, SiteSimulation]:
    return {site: generate(catalogue, site, HOUR, HOUR + timedelta(hours=1),
                           timedelta(minutes=1), 0) for site in catalogue.sites}


# --- the contract -------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_message(catalogue: Catalogue, topic: str, payload: bytes) -> list[tuple[str, float]]:
    """Validate one message against its format; return its (sensor id, canonical value)s."""
    levels = topic.split("/")
    if levels[0] == "v3":
        return _check_ttn(catalogue, levels, payload)
    assert levels[0] == "stadtpuls" and len(levels) == 3, topic
    site = catalogue.sites[levels[1]]
    if levels[2] == "senml":
        return _check_senml(levels[1], site.sensors, payload)
    sensor = next(s for s in site.sensors if s.id == levels[2])
    document = json.loads(payload)
    if _number(document) and sensor.decoder == "raw":
        return [(sensor.id, to_canonical(sensor.quantity, float(document), sensor.unit))]
    assert isinstance(document, dict) and set(document) == {"value", "ts", "unit"}, payload
    assert _number(document["value"]), payload
    assert ISO_MS.match(document["ts"]), payload
    assert document["unit"] == unit_of(sensor), payload
    return [(sensor.id, to_canonical(sensor.quantity, document["value"], document["unit"]))]


def _check_senml(site_id: str, sensors: list[Sensor], payload: bytes) -> list[tuple[str, float]]:
    pack = json.loads(payload)
    assert isinstance(pack, list) and pack, payload
    assert pack[0]["bn"] == f"urn:dev:stadtpuls:{site_id}:"
    assert _number(pack[0]["bt"])
    by_id = {s.id: s for s in sensors}
    out = []
    for i, record in enumerate(pack):
        allowed = {"n", "u", "v", "t"} | ({"bn", "bt"} if i == 0 else set())
        assert set(record) <= allowed and {"n", "u", "v"} <= set(record), record
        sensor = by_id[record["n"]]
        unit, factor = SENML_UNITS[sensor.quantity]
        assert record["u"] == unit and _number(record["v"]), record
        assert _number(record.get("t", 0))
        out.append((sensor.id, record["v"] / factor))
    return out


def _check_ttn(catalogue: Catalogue, levels: list[str], payload: bytes) -> list[tuple[str, float]]:
    match = re.fullmatch(r"stadtpuls-(.+)@ttn", levels[1])
    assert match and levels[2] == "devices" and levels[4] == "up", levels
    site_id, device = match.group(1), levels[3]
    sensors = [s for s in catalogue.sites[site_id].sensors if (s.device or s.id) == device]
    assert sensors, device
    doc = json.loads(payload)
    ids = doc["end_device_ids"]
    assert ids["device_id"] == device
    assert ids["application_ids"]["application_id"] == f"stadtpuls-{site_id}"
    assert re.fullmatch(r"[0-9A-F]{16}", ids["dev_eui"])
    assert ISO_MS.match(doc["received_at"])
    up = doc["uplink_message"]
    assert isinstance(up["f_port"], int) and 1 <= up["f_port"] <= 223
    assert isinstance(up["f_cnt"], int) and up["f_cnt"] >= 0
    assert base64.b64decode(up["frm_payload"], validate=True)
    assert ISO_MS.match(up["received_at"])
    decoded = up["decoded_payload"]
    assert isinstance(decoded["battery"], int) and 0 <= decoded["battery"] <= 100
    (rx,) = up["rx_metadata"]
    assert rx["gateway_ids"]["gateway_id"] and isinstance(rx["rssi"], int)
    assert _number(rx["snr"]) and ISO_MS.match(rx["time"])
    assert up["settings"]["data_rate"]["lora"]["spreading_factor"] in range(7, 13)
    out = []
    fields = {s.field or "value": s for s in sensors}
    assert set(decoded) - {"battery"} <= set(fields), decoded
    for key, value in decoded.items():
        if key == "battery":
            continue
        assert _number(value), decoded
        sensor = fields[key]
        out.append((sensor.id, to_canonical(sensor.quantity, value, sensor.unit)))
    return out


def _expected(sims: dict[str, SiteSimulation]) -> Counter[tuple[str, str]]:
    return Counter({(site, sid): s.times_ns.size for site, sim in sims.items()
                    for sid, s in sim.series.items()})


# --- formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: str(f or "catalogue"))
def test_every_message_passes_its_format_and_carries_every_reading(
    catalogue: Catalogue, hour: dict[str, SiteSimulation], fmt: Format | None
) -> None:
    seen: Counter[tuple[str, str]] = Counter()
    for site, sim in hour.items():
        values = {(sid, int(t)): float(v) for sid, s in sim.series.items()
                  for t, v in zip(s.times_ns, s.values, strict=True)}
        for message in build_messages(sim, fmt).messages:
            for sensor_id, value in check_message(catalogue, message.topic, message.payload):
                seen[(site, sensor_id)] += 1
                expected = values[(sensor_id, message.time_ns)]
                assert value == pytest.approx(expected, rel=1e-9, abs=1e-6), sensor_id
    assert seen == _expected(hour)


def test_catalogue_mode_uses_each_sensors_decoder_and_topic(
    hour: dict[str, SiteSimulation],
) -> None:
    formats = {m.topic.split("/")[0] + "|" + m.format
               for sim in hour.values() for m in build_messages(sim, None).messages}
    assert formats == {"stadtpuls|json", "stadtpuls|raw", "stadtpuls|senml", "v3|ttn"}
    senml = [m for m in build_messages(hour["stuehlinger"], None).messages if m.format == "senml"]
    # One pack per room and time step: three rooms, every 5 minutes in an hour.
    assert len(senml) == 3 * 12
    assert all(len(json.loads(m.payload)) == 3 for m in senml)
    ttn = [m for m in build_messages(hour["freiburg"], None).messages if m.format == "ttn"]
    assert len(ttn) == 6 and all(len(m.sensors) == 3 for m in ttn)  # pm2_5, pm10, no2


def test_values_go_out_in_the_catalogue_unit(hour: dict[str, SiteSimulation]) -> None:
    sim = hour["stuehlinger"]
    sensor = next(s for s in sim.site.sensors if s.id == "pv_roof_south_a_power")
    assert to_sensor_unit(sensor)(120_675.0) == 120.675
    message = next(m for m in build_messages(sim, Format.JSON).messages
                   if m.sensors == ("building_energy",))
    doc = json.loads(message.payload)
    assert doc["unit"] == "kWh" and doc["value"] < 1e8  # kWh, while readings are in Wh
    senml = next(m for m in build_messages(sim, Format.SENML).messages
                 if "building_energy" in m.sensors)
    record = next(r for r in json.loads(senml.payload) if r["n"] == "building_energy")
    assert record["u"] == "Wh" and record["v"] == pytest.approx(doc["value"] * 1000)


def test_golden_messages() -> None:
    catalogue = load_catalogue(CATALOGUE)
    start = datetime(2025, 6, 3, 10, tzinfo=UTC)
    update = os.environ.get("STADTPULS_UPDATE_GOLDEN") == "1"
    for fmt in FORMATS:
        lines = []
        for site in catalogue.sites:
            sim = generate(catalogue, site, start, start + timedelta(minutes=10),
                           timedelta(minutes=5), 7)
            for m in build_messages(sim, fmt).messages:
                lines.append(json.dumps({"topic": m.topic, "payload": m.payload.decode()},
                                        ensure_ascii=False))
        path = GOLDEN / f"messages_{fmt or 'catalogue'}.jsonl"
        text = "\n".join(lines) + "\n"
        if update:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, f"{path.name} differs"


# --- message faults -----------------------------------------------------------------------------


def _per_topic_out_of_order(messages: list[OutboundMessage]) -> int:
    last: dict[str, int] = {}
    count = 0
    for m in messages:
        if m.time_ns < last.get(m.topic, 0):
            count += 1
        last[m.topic] = max(last.get(m.topic, 0), m.time_ns)
    return count


def _duplicates(messages: list[OutboundMessage]) -> int:
    # By time as well: a raw payload carries no time, and a value may repeat.
    return sum(1 for a, b in itertools.pairwise(messages)
               if (a.topic, a.payload, a.time_ns) == (b.topic, b.payload, b.time_ns))


def _broken(catalogue: Catalogue, messages: list[OutboundMessage]) -> int:
    broken = 0
    for m in messages:
        try:
            check_message(catalogue, m.topic, m.payload)
        except (AssertionError, ValueError, KeyError, TypeError, StopIteration):
            broken += 1
    return broken


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: str(f or "catalogue"))
def test_no_message_fault_appears_when_none_is_enabled(
    catalogue: Catalogue, hour: dict[str, SiteSimulation], fmt: Format | None
) -> None:
    for sim in hour.values():
        batch = build_messages(sim, fmt, FaultPlan())
        assert batch.faults == []
        assert _duplicates(batch.messages) == 0
        assert _per_topic_out_of_order(batch.messages) == 0
        assert _broken(catalogue, batch.messages) == 0
        assert all(m.fault is None for m in batch.messages)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: str(f or "catalogue"))
@pytest.mark.parametrize("kind", [FaultKind.DUPLICATES, FaultKind.OUT_OF_ORDER,
                                  FaultKind.MALFORMED])
def test_each_message_fault_appears_when_enabled(
    catalogue: Catalogue, hour: dict[str, SiteSimulation], fmt: Format | None, kind: FaultKind
) -> None:
    sim = hour["stuehlinger"]
    clean = build_messages(sim, fmt).messages
    batch = build_messages(sim, fmt, FaultPlan.parse(f"{kind}:0.1"))
    assert batch.faults and {f.kind for f in batch.faults} == {kind}
    faulty = [m for m in batch.messages if m.fault]
    assert faulty
    if kind is FaultKind.DUPLICATES:
        assert len(batch.messages) == len(clean) + len(faulty)
        assert _duplicates(batch.messages) == len(faulty)
    elif kind is FaultKind.OUT_OF_ORDER:
        def content(ms: list[OutboundMessage]) -> list[tuple[int, str, bytes]]:
            return sorted((m.time_ns, m.topic, m.payload) for m in ms)

        assert content(batch.messages) == content(clean)
        assert _per_topic_out_of_order(batch.messages) > 0
        assert all(m.due_ns >= m.time_ns for m in batch.messages)
    else:
        assert len(batch.messages) == len(clean)
        assert _broken(catalogue, batch.messages) == len(faulty)
        kinds = {m.fault for m in faulty}
        assert {"malformed:truncated", "malformed:not_json", "malformed:wrong_type"} <= kinds


def test_a_message_fault_can_target_one_sensor(hour: dict[str, SiteSimulation]) -> None:
    batch = build_messages(hour["stuehlinger"], None,
                           FaultPlan.parse("duplicates:weather_wind_speed~1"))
    assert {f.sensor for f in batch.faults} == {"weather_wind_speed"}
    assert len(batch.faults) == 60


def test_malformed_senml_includes_truncated_and_nameless_packs(
    hour: dict[str, SiteSimulation],
) -> None:
    batch = build_messages(hour["stuehlinger"], Format.SENML, FaultPlan.parse("malformed:0.3"))
    kinds = Counter(m.fault for m in batch.messages if m.fault)
    assert kinds["malformed:truncated"] and kinds["malformed:nameless"]


# --- publishing to a real broker ----------------------------------------------------------------


def _unique_sites(catalogue: Catalogue, tag: str) -> Catalogue:
    """The catalogue with site ids made unique: topics are fixed by the formats, so this is
    what keeps the test's messages apart from anything else on the session's broker."""
    sites = {}
    for site_id, site in catalogue.sites.items():
        new_id = f"{site_id}-{tag}"
        sensors = [s.model_copy(update={"topic": s.topic.replace(f"/{site_id}/", f"/{new_id}/")})
                   if s.topic else s for s in site.sensors]
        sites[new_id] = site.model_copy(update={"sensors": sensors})
    return catalogue.model_copy(update={"sites": sites})


@pytest.mark.integration
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: str(f or "catalogue"))
def test_publish_an_hour_to_mosquitto(
    mosquitto: Any, catalogue: Catalogue, mqtt_topic_prefix: str, fmt: Format | None
) -> None:
    from paho.mqtt.client import Client, MQTTMessage
    from paho.mqtt.enums import CallbackAPIVersion

    from simulators.publisher import MqttSender, RunConfig, publish

    tag = mqtt_topic_prefix.rsplit("/", 1)[-1][:12]
    unique = _unique_sites(catalogue, tag)
    sites = list(unique.sites)
    inbox: queue.Queue[MQTTMessage] = queue.Queue()
    subscribed = threading.Event()
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"sim-test-{tag}")
    client.on_message = lambda _c, _u, msg: inbox.put(msg)
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    try:
        filters = [(f"stadtpuls/{site}/#", 1) for site in sites]
        filters += [(f"v3/stadtpuls-{site}@ttn/devices/+/up", 1) for site in sites]
        client.subscribe(filters)
        assert subscribed.wait(5)

        config = RunConfig(catalogue=unique, sites=sites, fmt=fmt, start=HOUR,
                           end=HOUR + timedelta(hours=1), speed=1e9, seed=0,
                           step=timedelta(minutes=1))
        sender = MqttSender(mosquitto.url, f"sim-pub-{tag}", window=200)
        sender.connect()
        try:
            report = publish(config, sender, threading.Event(), progress_to=None)
        finally:
            sender.close()
        assert report.unacknowledged == 0 and not report.interrupted
        assert report.total_messages > 500

        received = []
        deadline = time.monotonic() + 15
        while len(received) < report.total_messages and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                received.append(inbox.get(timeout=0.2))
    finally:
        client.loop_stop()
        client.disconnect()

    assert len(received) == report.total_messages
    seen: Counter[tuple[str, str]] = Counter()
    for msg in received:
        site = next(s for s in sites if f"/{s}/" in msg.topic or f"-{s}@" in msg.topic)
        for sensor_id, _value in check_message(unique, msg.topic, msg.payload):
            seen[(site, sensor_id)] += 1
    sims = {site: generate(unique, site, HOUR, HOUR + timedelta(hours=1),
                           timedelta(minutes=1), 0) for site in sites}
    assert seen == _expected(sims)
    assert sum(report.readings.values()) == sum(seen.values())
