"""Wire formats of simulated sensors: pure functions from readings to (topic, payload).

The ingest service decodes exactly these; change them only together with its decoders.

json
    Topic ``stadtpuls/<site>/<sensor>`` (or the sensor's catalogue `topic`). Payload
    ``{"value": 21.4, "ts": "2025-06-01T10:00:00.000Z", "unit": "°C"}``: the value in the
    sensor's catalogue unit (canonical if it names none), the time in ISO 8601 UTC with
    milliseconds and ``Z``, and that unit.
raw
    Same topic; the payload is the bare number in the catalogue unit, e.g. ``63.2``. Used only
    for sensors whose catalogue decoder is ``raw``, when no ``--format`` is forced.
senml
    Topic ``stadtpuls/<site>/senml`` (or the sensor's catalogue `topic`). An RFC 8428 pack
    (JSON array): the first record carries ``"bn": "urn:dev:stadtpuls:<site>:"`` and
    ``"bt"`` (epoch seconds); each record is ``{"n": "<sensor id>", "u": "<unit>",
    "v": <value>}`` with ``"t"`` (seconds relative to ``bt``) when the pack holds several
    times. Units are SenML's (`SENML_UNITS`): ``Cel``, ``%RH``, ``W``, ``Wh``, ``W/m2``,
    ``m/s``, ``ppm``, ``ug/m3``, ``dBA``, ``count``; values are converted to them (a meter
    configured in kWh is sent in Wh). One pack per sensor group and time step; a group is the
    sensors sharing a `device`, else a `room`, else a PV `array`, else the sensor alone.
ttn
    Topic ``v3/stadtpuls-<site>@ttn/devices/<device>/up``: a The Things Stack v3 uplink
    message. ``decoded_payload`` holds one key per sensor (its catalogue `field`, or
    ``value``) in its catalogue unit, plus ``battery`` (%). Sensors sharing a catalogue
    `device` travel in one uplink; others are their own device (device id = sensor id).
    ``frm_payload`` is base64 of the same values as big-endian int32 of value × 100, then
    the battery byte (informative: decoders read ``decoded_payload``).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from stadtpuls import topics
from stadtpuls.catalogue.models import Catalogue, Sensor
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import CANONICAL_UNIT, Quantity, converter


class Format(StrEnum):
    JSON = "json"
    RAW = "raw"
    SENML = "senml"
    TTN = "ttn"


# Catalogue decoder name -> the format a sensor speaks when no format is forced.
DECODER_FORMAT: dict[str, Format] = {
    "json": Format.JSON,
    "raw": Format.RAW,
    "senml": Format.SENML,
    "ttn-v3": Format.TTN,
}

# SenML unit (RFC 8428 §12.1 names) per quantity, and the factor from the canonical unit.
SENML_UNITS: dict[Quantity, tuple[str, float]] = {
    Quantity.POWER: ("W", 1.0),
    Quantity.ENERGY: ("Wh", 1.0),
    Quantity.TEMPERATURE: ("Cel", 1.0),
    Quantity.HUMIDITY: ("%RH", 1.0),
    Quantity.CO2: ("ppm", 1.0),
    Quantity.PM2_5: ("ug/m3", 1.0),
    Quantity.PM10: ("ug/m3", 1.0),
    Quantity.NO2: ("ug/m3", 1.0),
    Quantity.NOISE: ("dBA", 1.0),
    Quantity.COUNT: ("count", 1.0),
    Quantity.IRRADIANCE: ("W/m2", 1.0),
    Quantity.WIND_SPEED: ("m/s", 1.0),
    Quantity.PRESSURE: ("Pa", 100.0),
    Quantity.VOLTAGE: ("V", 1.0),
    Quantity.BATTERY: ("%EL", 1.0),
    Quantity.RSSI: ("dBm", 1.0),
    Quantity.SNR: ("dB", 1.0),
}


@dataclass(frozen=True)
class Radio:
    """What the network adds to a LoRaWAN uplink."""

    rssi: int
    snr: float
    battery: int
    gateway_id: str


def iso_ms(time_ns: int) -> str:
    """2025-06-01T10:00:00.000Z"""
    when = datetime.fromtimestamp(time_ns // NS_PER_S, tz=UTC)
    millis = (time_ns % NS_PER_S) // 1_000_000
    return f"{when:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def unit_of(sensor: Sensor) -> str:
    """The unit a sensor sends in: its catalogue unit, else the canonical one."""
    return sensor.unit or CANONICAL_UNIT[sensor.quantity]


def to_sensor_unit(sensor: Sensor) -> Callable[[float], float]:
    """Inverse of the ingest conversion: canonical value -> value in the sensor's unit."""
    forward = converter(sensor.quantity, sensor.unit)
    offset = forward(0.0)
    factor = forward(1.0) - offset

    def convert(value: float) -> float:
        # Rounding to 9 significant decimals drops float noise (0.30000000000000004).
        return round((value - offset) / factor, 9)

    return convert


def _number(value: float) -> float | int:
    """Whole numbers as ints: `1200` reads better than `1200.0` on the wire."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def json_topic(site: str, sensor: Sensor, use_catalogue_topic: bool) -> str:
    if use_catalogue_topic:
        return Catalogue.topic_of(site, sensor)
    return topics.sensor_topic(site, sensor.id)


def json_payload(sensor: Sensor, time_ns: int, value: float) -> bytes:
    return _dumps({
        "value": _number(to_sensor_unit(sensor)(value)),
        "ts": iso_ms(time_ns),
        "unit": unit_of(sensor),
    })


def raw_payload(sensor: Sensor, value: float) -> bytes:
    return repr(_number(to_sensor_unit(sensor)(value))).encode()


def senml_topic(site: str, sensor: Sensor | None, use_catalogue_topic: bool) -> str:
    if use_catalogue_topic and sensor is not None and sensor.topic:
        return sensor.topic
    return topics.senml_topic(site)


def senml_group(sensor: Sensor) -> str:
    """Sensors packed together: same device, else same room, else same PV array."""
    for kind, key in (("device", sensor.device), ("room", sensor.room),
                      ("array", sensor.array)):
        if key:
            return f"{kind}:{key}"
    return f"sensor:{sensor.id}"


def senml_payload(site: str, entries: Sequence[tuple[Sensor, int, float]]) -> bytes:
    """One SenML pack of (sensor, time_ns, canonical value) entries."""
    if not entries:
        raise ValueError("a SenML pack needs at least one record")
    base_ns = min(t for _, t, _ in entries)
    base_t = base_ns / NS_PER_S
    records: list[dict[str, Any]] = []
    for i, (sensor, time_ns, value) in enumerate(entries):
        unit, factor = SENML_UNITS[sensor.quantity]
        record: dict[str, Any] = {}
        if i == 0:
            record["bn"] = topics.senml_base_name(site)
            record["bt"] = _number(base_t)
        record["n"] = sensor.id
        record["u"] = unit
        record["v"] = _number(round(value * factor, 9))
        if time_ns != base_ns:
            record["t"] = _number((time_ns - base_ns) / NS_PER_S)
        records.append(record)
    return _dumps(records)


def ttn_application(site: str) -> str:
    return f"stadtpuls-{site}"


def ttn_device(sensor: Sensor) -> str:
    return sensor.device or sensor.id


def ttn_topic(site: str, device: str) -> str:
    return topics.ttn_uplink_topic(ttn_application(site), "ttn", device)


def dev_eui(device: str) -> str:
    """A stable 64-bit EUI per device (0x70B3D57ED0 is The Things Network's prefix)."""
    return f"70B3D57ED0{zlib.crc32(device.encode()) & 0xFFFFFF:06X}"


def ttn_payload(
    site: str, device: str, entries: Sequence[tuple[Sensor, float]], time_ns: int,
    f_cnt: int, radio: Radio,
) -> bytes:
    """A The Things Stack v3 uplink message for one device and time."""
    decoded: dict[str, Any] = {}
    binary = b""
    for sensor, value in entries:
        shown = to_sensor_unit(sensor)(value)
        decoded[sensor.field or "value"] = _number(shown)
        scaled = max(min(round(shown * 100), 2**31 - 1), -(2**31))
        binary += struct.pack(">i", scaled)
    decoded["battery"] = radio.battery
    binary += struct.pack(">B", max(0, min(radio.battery, 255)))
    at = iso_ms(time_ns)
    # The gateway's timestamp is a free-running microsecond counter, not wall time.
    counter = (time_ns // 1_000) & 0xFFFFFFFF
    document = {
        "end_device_ids": {
            "device_id": device,
            "application_ids": {"application_id": ttn_application(site)},
            "dev_eui": dev_eui(device),
            "join_eui": "0000000000000000",
        },
        "correlation_ids": [f"gs:uplink:{site}:{device}:{f_cnt}"],
        "received_at": at,
        "uplink_message": {
            "f_port": 1,
            "f_cnt": f_cnt,
            "frm_payload": base64.b64encode(binary).decode(),
            "decoded_payload": decoded,
            "rx_metadata": [
                {
                    "gateway_ids": {"gateway_id": radio.gateway_id},
                    "time": at,
                    "timestamp": counter,
                    "rssi": radio.rssi,
                    "channel_rssi": radio.rssi,
                    "snr": radio.snr,
                }
            ],
            "settings": {
                "data_rate": {
                    "lora": {"bandwidth": 125_000, "spreading_factor": 7, "coding_rate": "4/5"}
                },
                "frequency": "868100000",
                "timestamp": counter,
            },
            "received_at": at,
            "consumed_airtime": "0.061696s",
        },
    }
    return _dumps(document)


class Malformation(StrEnum):
    TRUNCATED = "truncated"
    NOT_JSON = "not_json"
    WRONG_TYPE = "wrong_type"
    NAMELESS = "nameless"


def malform(fmt: Format, payload: bytes, pick: float) -> tuple[bytes, Malformation]:
    """A broken version of `payload`; `pick` in [0, 1) chooses how it is broken."""
    options = [Malformation.TRUNCATED, Malformation.NOT_JSON, Malformation.WRONG_TYPE]
    if fmt is Format.SENML:
        options.append(Malformation.NAMELESS)
    how = options[min(int(pick * len(options)), len(options) - 1)]
    if how is Malformation.TRUNCATED:
        return payload[: max(1, len(payload) // 2)], how
    if how is Malformation.NOT_JSON:
        return b"\x00\xffsensor error " + payload[:8], how
    if how is Malformation.NAMELESS:
        # Records with neither a name nor a base name: nobody can tell what they measure.
        pack = json.loads(payload)
        for record in pack:
            record.pop("bn", None)
            record.pop("n", None)
        return _dumps(pack), how
    return _wrong_type(fmt, payload), how


def _wrong_type(fmt: Format, payload: bytes) -> bytes:
    if fmt is Format.RAW:
        return b'"n/a"'
    document = json.loads(payload)
    if fmt is Format.JSON:
        document["value"] = str(document["value"]) + " units"
    elif fmt is Format.SENML:
        for record in document:
            record["v"] = {"value": record.get("v")}
    else:
        # A payload formatter that returns a JSON string instead of an object.
        uplink = document["uplink_message"]
        uplink["decoded_payload"] = json.dumps(uplink["decoded_payload"])
    return _dumps(document)
