"""Decoders: golden files per decoder (RFC 8428's own examples among them), the registry,
the timestamp rules, and fuzzing: no bytes may raise anything but DecodeError / Rejected."""

from __future__ import annotations

import functools
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.decoders import DECODERS, DecodeError, Sample, get_decoder
from ingest.decoders.common import json_ts_to_ns, load_json
from ingest.decoders.contract import Rejected
from ingest.decoding import MessageDecoder
from stadtpuls.catalogue import load_catalogue
from stadtpuls.catalogue.models import DecoderName
from stadtpuls.reading import Reading
from stadtpuls.timebase import to_ns

GOLDEN = Path(__file__).parent / "golden" / "decoders"
RECEIVED_AT_NS = to_ns(datetime(2025, 6, 1, 12, 30, tzinfo=UTC))
CASES = sorted(p for p in GOLDEN.glob("*/*") if p.is_dir())


@functools.cache
def _golden_decoder() -> MessageDecoder:
    return MessageDecoder(load_catalogue(GOLDEN / "catalogue.yaml"))


@pytest.fixture
def message_decoder() -> MessageDecoder:
    return _golden_decoder()


# --- golden files ---------------------------------------------------------------------------


def _ns(iso: str) -> int:
    return to_ns(datetime.fromisoformat(iso))


def _approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-12, abs=1e-12)


def _expected_reading(entry: dict[str, Any]) -> dict[str, Any]:
    return {"site": entry["site"], "sensor": entry["sensor"], "quantity": entry["quantity"],
            "time_ns": _ns(entry["time"]), "value": _approx(entry["value"]),
            "implausible": entry.get("implausible", False),
            "unregistered": entry.get("unregistered", False)}


def _reading(reading: Reading) -> dict[str, Any]:
    return {"site": reading.site, "sensor": reading.sensor, "quantity": reading.quantity.value,
            "time_ns": reading.time_ns, "value": reading.value,
            "implausible": reading.implausible, "unregistered": reading.unregistered}


def _expected_sample(entry: dict[str, Any]) -> dict[str, Any]:
    out = {"site": entry["site"], "sensor": entry["sensor"], "time_ns": _ns(entry["time"]),
           "value": _approx(entry["value"])}
    for key in ("quantity", "unit", "field", "device"):
        out[key] = entry.get(key)
    out["health"] = entry.get("health", False)
    return out


def _sample(sample: Sample) -> dict[str, Any]:
    return {"site": sample.site, "sensor": sample.sensor, "time_ns": sample.time_ns,
            "value": sample.value, "quantity": sample.quantity, "unit": sample.unit,
            "field": sample.field, "device": sample.device, "health": sample.health}


def test_golden_cases_exist_for_every_decoder() -> None:
    assert {case.parent.name for case in CASES} == set(DECODERS)
    rfc = {case.name[:len("rfc8428_5_1_x")] for case in CASES if case.name.startswith("rfc")}
    assert rfc >= {f"rfc8428_5_1_{i}" for i in range(1, 8)}


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(case: Path, message_decoder: MessageDecoder) -> None:
    topic = (case / "topic.txt").read_text(encoding="utf-8").strip()
    (payload_file,) = case.glob("payload.*")
    payload = payload_file.read_bytes()
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))

    if isinstance(expected, dict) and "rejected" in expected:
        with pytest.raises(Rejected) as info:
            message_decoder.decode(topic, payload, RECEIVED_AT_NS)
        assert expected["rejected"] in info.value.reason
        assert "\n" not in info.value.reason
    elif isinstance(expected, dict):
        samples = DECODERS[case.parent.name](topic, payload, RECEIVED_AT_NS)
        assert [_sample(s) for s in samples] == [_expected_sample(e) for e in expected["samples"]]
    else:
        readings = message_decoder.decode(topic, payload, RECEIVED_AT_NS)
        assert [_reading(r) for r in readings] == [_expected_reading(e) for e in expected]


# --- registry -------------------------------------------------------------------------------


def test_registry_names_equal_the_catalogue_decoder_names() -> None:
    assert set(DECODERS) == set(get_args(DecoderName))


def test_unknown_decoder_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown decoder 'cbor'; known decoders: json, raw, "
                                         r"senml, ttn-v3"):
        get_decoder("cbor")
    assert get_decoder("senml") is DECODERS["senml"]


# --- timestamps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "expected_ns"),
    [
        (1748779200, 1748779200 * 10**9),  # seconds
        (9_000_000_000, 9_000_000_000 * 10**9),  # seconds, the year 2255
        (100_000_000_000, 100_000_000_000 * 10**6),  # smallest milliseconds: 1973-03-03
        (1748779200123, 1748779200123 * 10**6),
        (1748779200.123456, 1748779200123456000),  # float seconds, to the microsecond
        (1748779200123.5, 1748779200123500000),  # float milliseconds
        (0, 0),
        ("2025-06-01T12:00:00Z", 1748779200 * 10**9),
        ("2025-06-01T12:00:00.123456789Z", 1748779200123456000),  # beyond µs is dropped
    ],
)
def test_json_ts_seconds_or_milliseconds_by_magnitude(ts: Any, expected_ns: int) -> None:
    assert json_ts_to_ns(ts) == expected_ns


# 99_999_999_999 is still read as seconds (the year 5138), beyond what a store can hold.
@pytest.mark.parametrize("ts", [10**14, 99_999_999_999, True, None, [1], "1748779200", 1e300,
                                -1e20, "2025-06-01"])
def test_json_ts_rejections(ts: Any) -> None:
    with pytest.raises(DecodeError):
        json_ts_to_ns(ts)


def test_senml_relative_time_is_bt_plus_t_below_2_pow_28() -> None:
    decode = DECODERS["senml"]
    pack = b'[{"bt": 100, "n": "a", "t": -160, "v": 1}, {"n": "a", "t": 2, "v": 2}]'
    first, second = decode("stadtpuls/s/senml", pack, RECEIVED_AT_NS)
    assert first.time_ns == RECEIVED_AT_NS - 60 * 10**9
    assert second.time_ns == RECEIVED_AT_NS + 102 * 10**9
    at_limit = f'[{{"bt": {2**28}, "n": "a", "v": 1}}]'.encode()
    assert decode("stadtpuls/s/senml", at_limit, RECEIVED_AT_NS)[0].time_ns == 2**28 * 10**9


@pytest.mark.parametrize(
    ("pack", "reason"),
    [
        (b'[{"bt": 1e300, "n": "a", "v": 1}]', "outside the storable range"),
        (b'[{"n": "a", "t": 1e400, "v": 1}]', "outside the storable range"),
        (b'[{"n": "a", "v": 1e400}]', "out of range"),
        (b'[{"n": "a", "v": 1e308, "bv": 1e308}]', "out of range"),
        (b'[{"n": "a", "v": 100000000000000000000000000000000000000000000000000000000000000000'
         b'000000000000000000000000000000000000000000000000000000000000000000000000000000000000'
         b'000000000000000000000000000000000000000000000000000000000000000000000000000000000000'
         b'000000000000000000000000000000000000000000000000000000000000000000000000000000000000'
         b'000000000000000000000000000000000000000000000000000000}]', "out of range"),
        (b'[{"n": "a", "v": true}]', "'v' is true, not a number"),
        (b'[{"bn": 5, "n": "a", "v": 1}]', "'bn' is 5, not a string"),
        (b'[{"bver": "10", "n": "a", "v": 1}]', "not a positive integer"),
        (b'[{"n": "a", "t": "now", "v": 1}]', "'t' is a string ('now'), not a number"),
        (b'[{"n": "a", "v": null}]', "'v' is null"),
        (b'[{"n": "a", "s": "5"}]', "'s' is a string ('5'), not a number"),
        (b'[{"n": "", "v": 1}]', "has no name"),
        (b'\xff\xfe[]', "not UTF-8"),
    ],
)
def test_senml_malformed(pack: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        DECODERS["senml"]("stadtpuls/s/senml", pack, RECEIVED_AT_NS)
    assert reason in info.value.reason


def test_senml_sum_without_value_is_a_counter_reading_and_value_wins_over_sum() -> None:
    pack = b'[{"bn": "m", "bs": 10, "u": "Wh", "s": 5}, {"bn": "m", "v": 3, "s": 99}]'
    samples = DECODERS["senml"]("stadtpuls/s/senml", pack, RECEIVED_AT_NS)
    assert [(s.sensor, s.value, s.unit) for s in samples] == [("m", 15.0, "Wh"), ("m", 3.0, None)]


def test_ttn_radio_falls_back_to_channel_rssi_and_skips_non_numeric_fields() -> None:
    message = {
        "end_device_ids": {"device_id": "d", "application_ids": {"application_id": "app"}},
        "uplink_message": {
            "decoded_payload": {"t": 1.5, "gps": {"lat": 1}, "note": "x", "on": True},
            "rx_metadata": [{"channel_rssi": -80}, {"rssi": -90, "snr": 5}, "junk"],
        },
    }
    samples = DECODERS["ttn-v3"]("v3/app@ttn/devices/d/up", json.dumps(message).encode(), 7)
    assert [(s.field, s.value, s.health, s.time_ns) for s in samples] == [
        ("t", 1.5, False, 7), ("rssi", -80.0, True, 7)]


# --- fuzzing --------------------------------------------------------------------------------

_LABELS = ["bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t",
           "ut", "x_", "value", "ts", "unit", "quantity", "temperature", "humidity", "power",
           "end_device_ids", "device_id", "application_ids", "application_id",
           "uplink_message", "decoded_payload", "rx_metadata", "rssi", "channel_rssi", "snr",
           "received_at", "battery", "pm2_5"]
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
            | st.sampled_from(["urn:dev:stadtpuls:golden:", "room_co2", "aq-1", "Cel", "kW",
                               "2025-06-01T12:00:00Z", "power", ""])
            | st.text(max_size=8))
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(_LABELS) | st.text(max_size=4), inner, max_size=6),
    max_leaves=25,
)
_TOPICS = ["stadtpuls/golden/power_kw", "stadtpuls/golden/noise", "stadtpuls/golden/senml",
           "stadtpuls/golden/weather", "stadtpuls/newsite/thing", "building/meter/7",
           "v3/stadtpuls-street@ttn/devices/aq-1/up", "v3/x@y/devices/aq-9/up", "other/topic",
           "stadtpuls//x", "stadtpuls/bad\nsite/x"]


def _payloads() -> st.SearchStrategy[bytes]:
    as_json = _JSON.map(lambda v: json.dumps(v, allow_nan=True).encode())
    return st.binary(max_size=200) | as_json


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(DECODERS)), topic=st.sampled_from(_TOPICS),
       payload=_payloads())
def test_decoders_raise_only_decode_error(name: str, topic: str, payload: bytes) -> None:
    try:
        samples = DECODERS[name](topic, payload, RECEIVED_AT_NS)
    except DecodeError as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    for sample in samples:
        assert isinstance(sample, Sample)
        assert math.isfinite(sample.value)
        assert type(sample.time_ns) is int


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.sampled_from(_TOPICS), payload=_payloads())
def test_message_decoder_raises_only_rejected(topic: str, payload: bytes) -> None:
    decoder = _golden_decoder()
    try:
        readings = decoder.decode(topic, payload, RECEIVED_AT_NS)
    except Rejected as exc:
        # The catch-all for bugs must never be what handled a fuzzed input.
        assert "internal error" not in exc.reason
        assert exc.reason and "\n" not in exc.reason
        return
    assert all(isinstance(r, Reading) for r in readings)


_JSONISH = st.text(alphabet=' \t\n\r\x0b\xa0{}[]":,.-+eE0123456789truefalsnNIiy\\', max_size=20)


@settings(max_examples=500, deadline=None)
@given(text=_JSONISH | _JSON.map(json.dumps).flatmap(
    lambda doc: st.tuples(_JSONISH, _JSONISH).map(lambda ends: ends[0] + doc + ends[1])))
def test_load_json_fast_path_agrees_with_the_full_decoder(text: str) -> None:
    """`load_json` scans with the C scanner first; it must accept exactly what json does."""
    try:
        expected = json.loads(text)
    except (ValueError, RecursionError):
        with pytest.raises(DecodeError):
            load_json(text.encode())
        return
    if any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(expected)):
        return  # NaN/Infinity literals: json takes them, load_json refuses them (tested above)
    assert load_json(text.encode()) == expected


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
