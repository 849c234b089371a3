"""`json`: one sensor's value, or several named values, on `stadtpuls/<site>/<sensor>`.

Accepted payloads:

- a bare number: ``12.5``
- one value: ``{"value": 12.5, "ts": "2025-06-01T12:00:00Z", "unit": "kW",
  "quantity": "power"}``; only ``value`` is required
- several named values: ``{"ts": …, "temperature": 21.3, "humidity": 45}`` or
  ``{"temperature": {"value": 21.3, "unit": "Cel"}}``; each key becomes a sample with
  ``field`` = key, and ``quantity`` = key when the key names a Stadtpuls quantity. A nested
  object may carry its own ``ts``, ``unit`` and ``quantity``.

``ts`` is ISO 8601 with an offset, or epoch seconds (below 1e11) or milliseconds (below
1e14); without it the reading is timed at reception. Keys the form does not define are
errors, not ignored: a typo such as ``"vaule"`` must not silently drop a reading.
"""

from __future__ import annotations

from typing import Any

from ingest.decoders.common import (
    QUANTITY_NAMES,
    json_ts_to_ns,
    kind,
    load_json,
    number,
    optional_str,
    show,
)
from ingest.decoders.contract import DecodeError, Sample
from stadtpuls.topics import parse_stadtpuls_topic

_SINGLE_KEYS = frozenset({"value", "ts", "unit", "quantity"})


_IDENTITIES: dict[str, tuple[str | None, str]] = {}
_SHARED: dict[str, tuple[str | None, str]] = {}  # the catalogues' topics, kept over a clear
_MAX_IDENTITIES = 100_000  # topics come from the network: bound the cache


def topic_identity(topic: str) -> tuple[str | None, str]:
    """(site, sensor) from `stadtpuls/<site>/<sensor>`; for a custom catalogue topic the
    site is unknown here and the last level stands in for the sensor."""
    # A fleet publishes on a few thousand topics, each many times: parse each once.
    identity = _IDENTITIES.get(topic)
    if identity is None:
        identity = parse_stadtpuls_topic(topic) or (None, topic.rsplit("/", 1)[-1])
        if len(_IDENTITIES) >= _MAX_IDENTITIES:
            _IDENTITIES.clear()
            _IDENTITIES.update(_SHARED)
        _IDENTITIES[topic] = identity
    return identity


def share_identity(topic: str, site: str, sensor: str) -> None:
    """Answer a catalogue sensor's own topic with the catalogue's own objects.

    Then the topic tables of the decoder and this cache hold one key string, and the
    validator finds the sensor's strings identical to its own: compared by address, never
    read again (with 10,000 series about 4 fewer cache misses per message; cachegrind,
    docs/benchmarks.md, session 7). Only where the topic's layout names that very sensor.
    """
    if parse_stadtpuls_topic(topic) != (site, sensor) or len(_SHARED) >= _MAX_IDENTITIES // 2:
        return
    for table in (_SHARED, _IDENTITIES):
        table.pop(topic, None)  # an equal key keeps its old object: replace it
        table[topic] = (site, sensor)


def decode(topic: str, payload: bytes, received_at_ns: int) -> list[Sample]:
    data = load_json(payload)
    site, sensor = topic_identity(topic)
    if type(data) is dict:
        if "value" in data:
            return [_single(data, site, sensor, received_at_ns)]
        return _several(data, site, sensor, received_at_ns)
    if type(data) is int or type(data) is float:
        return [Sample(site, sensor, received_at_ns, number(data, "the value"))]
    if type(data) is list:
        raise DecodeError("got a JSON array; a SenML pack belongs on stadtpuls/<site>/senml, "
                          "one value is {\"value\": …}")
    raise DecodeError(f"got {kind(data)}; send a number or an object such as "
                      "{\"value\": 12.5}")


def _single(data: dict[str, Any], site: str | None, sensor: str, now_ns: int) -> Sample:
    for key in data:
        if key not in _SINGLE_KEYS:
            raise DecodeError(f"unexpected key {show(key)} next to 'value'; allowed: value, "
                              "ts, unit, quantity (several values: drop 'value' and name "
                              "each one)")
    value = number(data["value"], "'value'")
    ts = data.get("ts")
    time_ns = now_ns if ts is None else json_ts_to_ns(ts)
    unit = data.get("unit")
    quantity = data.get("quantity")
    if (unit is not None and type(unit) is not str) or (
            quantity is not None and type(quantity) is not str):
        optional_str(data, "unit", "")
        optional_str(data, "quantity", "")
    return Sample(site, sensor, time_ns, value, quantity, unit)


def _several(data: dict[str, Any], site: str | None, sensor: str, now_ns: int) -> list[Sample]:
    ts = data.get("ts")
    time_ns = now_ns if ts is None else json_ts_to_ns(ts)
    samples: list[Sample] = []
    for key, item in data.items():
        if key == "ts":
            continue
        if key in ("unit", "quantity"):
            raise DecodeError(f"{key!r} at the top level needs 'value' next to it; for "
                              f"named values write {{\"temperature\": {{\"value\": 21.3, "
                              f"\"{key}\": …}}}}")
        quantity = key if key in QUANTITY_NAMES else None
        if type(item) is dict:
            samples.append(_nested(item, key, quantity, site, sensor, time_ns))
        else:
            value = number(item, f"{show(key)}")
            samples.append(Sample(site, sensor, time_ns, value, quantity, None, key))
    if not samples:
        raise DecodeError("the JSON object holds no value; send {\"value\": …} or named "
                          "values such as {\"temperature\": 21.3}")
    return samples


def _nested(item: dict[str, Any], key: str, quantity: str | None, site: str | None,
            sensor: str, time_ns: int) -> Sample:
    where = f"{show(key)}: "
    for inner in item:
        if inner not in _SINGLE_KEYS:
            raise DecodeError(f"{where}unexpected key {show(inner)}; allowed: value, ts, "
                              "unit, quantity")
    if "value" not in item:
        raise DecodeError(f"{where}object has no 'value'")
    value = number(item["value"], f"{where}'value'")
    ts = item.get("ts")
    if ts is not None:
        time_ns = json_ts_to_ns(ts, f"{where}'ts'")
    unit = optional_str(item, "unit", where)
    quantity = optional_str(item, "quantity", where) or quantity
    return Sample(site, sensor, time_ns, value, quantity, unit, key)
