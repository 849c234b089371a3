"""Validation: catalogue matching, unit conversion, implausible and unregistered marks, and
the MessageDecoder's topic routing and subscriptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingest import decoding, validate
from ingest.decoders import Sample
from ingest.decoders.contract import Rejected
from ingest.decoding import MessageDecoder
from ingest.limits import EdgeLimits
from ingest.validate import Validator
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.topics import topic_matches
from stadtpuls.units import Quantity

CONFIG = Path(__file__).parent.parent / "config" / "stuehlinger.yaml"
SIMULATOR_GOLDEN = Path(__file__).parent / "simulators_golden"
T0 = 1_748_779_200_000_000_000


def _sensor(sensor_id: str, quantity: str, **extra: Any) -> dict[str, Any]:
    return {"id": sensor_id, "name": {"de": sensor_id, "en": sensor_id}, "quantity": quantity,
            "position": {"lat": 48.0, "lon": 7.8}, "interval_s": 60,
            "plausible": {"min": 0, "max": 1000}, **extra}


def _catalogue(*sensors: dict[str, Any], other_site: list[dict[str, Any]] | None = None
               ) -> Catalogue:
    def site(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"name": {"de": "S", "en": "S"}, "location": {"lat": 48.0, "lon": 7.8},
                "timezone": "Europe/Berlin", "sensors": items}

    sites = {"s": site(list(sensors))}
    if other_site is not None:
        sites["t"] = site(other_site)
    return Catalogue.model_validate({"version": 1, "sites": sites})


CATALOGUE = _catalogue(
    _sensor("power", "power", unit="kW", plausible={"min": 0, "max": 100_000}),
    _sensor("temp", "temperature"),
    _sensor("room_t", "temperature", decoder="senml", topic="stadtpuls/s/senml",
            unit="Cel"),
    _sensor("wx_t", "temperature", topic="stadtpuls/s/wx", field="t"),
    _sensor("wx_h", "humidity", topic="stadtpuls/s/wx", field="h"),
    _sensor("meter", "energy", unit="kWh", topic="plant/meter"),
    _sensor("pm", "pm2_5", decoder="ttn-v3", device="aq", field="pm2_5"),
    _sensor("co2", "co2", decoder="ttn-v3", device="aq"),  # no field: matched by quantity
)


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(CATALOGUE)


def _one(validator: Validator, sample: Sample, topic: str = "stadtpuls/s/x") -> Reading:
    (reading,) = validator.to_readings([sample], topic)
    return reading


# --- registered sensors ---------------------------------------------------------------------


def test_catalogue_unit_is_what_the_sensor_sends(validator: Validator) -> None:
    reading = _one(validator, Sample("s", "power", T0, 2.5))
    assert reading == Reading("s", "power", Quantity.POWER, T0, 2500.0)


def test_sample_unit_overrides_the_catalogue_unit(validator: Validator) -> None:
    assert _one(validator, Sample("s", "power", T0, 2.5, unit="W")).value == 2.5
    assert _one(validator, Sample("s", "power", T0, 2.5, unit="MW")).value == 2.5e6


def test_without_any_unit_the_value_is_canonical(validator: Validator) -> None:
    assert _one(validator, Sample("s", "temp", T0, 21.5)).value == 21.5
    assert _one(validator, Sample("s", "temp", T0, 294.65, unit="K")).value == pytest.approx(21.5)


@pytest.mark.parametrize("quantity", [None, "power"])  # the fast path, and the full match
@pytest.mark.parametrize(("value", "implausible"),
                         [(0.0, False), (100.0, False), (100.001, True), (-0.001, True)])
def test_outside_the_plausible_range_is_kept_and_marked(
        validator: Validator, value: float, implausible: bool, quantity: str | None) -> None:
    # plausible 0..100 kW
    reading = _one(validator, Sample("s", "power", T0, value, quantity=quantity))
    assert reading.value == pytest.approx(value * 1000)
    assert reading.implausible is implausible
    sensor = CATALOGUE.sensor("s", "power")
    assert sensor is not None and reading.implausible is not sensor.is_plausible(reading.value)
    assert reading.unregistered is False


def test_a_payload_quantity_must_agree_with_the_catalogue(validator: Validator) -> None:
    assert _one(validator, Sample("s", "power", T0, 1, quantity="power")).value == 1000
    with pytest.raises(Rejected, match="the payload says quantity 'energy' for sensor s/power, "
                                       "the catalogue says 'power'"):
        _one(validator, Sample("s", "power", T0, 1, quantity="energy"))


def test_an_unknown_unit_is_rejected_with_the_accepted_ones(validator: Validator) -> None:
    with pytest.raises(Rejected, match=r"sensor s/power: unit 'PS' is not known for quantity "
                                       r"'power'; use one of: W, "):
        _one(validator, Sample("s", "power", T0, 1, unit="PS"))


def test_a_value_that_overflows_on_conversion_is_rejected(validator: Validator) -> None:
    with pytest.raises(Rejected, match="not finite"):
        _one(validator, Sample("s", "power", T0, 1e308, unit="MW"))


def test_multi_value_keys_match_sensors_by_topic_and_field(validator: Validator) -> None:
    samples = [Sample("s", "wx", T0, 20.0, None, None, "t"),
               Sample("s", "wx", T0, 50.0, None, None, "h")]
    readings = validator.to_readings(samples, "stadtpuls/s/wx")
    assert [(r.sensor, r.quantity, r.unregistered) for r in readings] == [
        ("wx_t", Quantity.TEMPERATURE, False), ("wx_h", Quantity.HUMIDITY, False)]


def test_a_quantity_key_on_a_single_sensors_topic_is_that_sensor(validator: Validator) -> None:
    match = Sample("s", "temp", T0, 20.0, "temperature", None, "temperature")
    assert _one(validator, match, "stadtpuls/s/temp").unregistered is False
    other = Sample("s", "temp", T0, 50.0, "humidity", None, "humidity")
    reading = _one(validator, other, "stadtpuls/s/temp")
    assert (reading.sensor, reading.quantity, reading.unregistered) == (
        "temp", Quantity.HUMIDITY, True)


def test_a_custom_topic_identifies_its_sensor_and_site(validator: Validator) -> None:
    reading = _one(validator, Sample(None, "meter", T0, 1.5), "plant/meter")
    assert (reading.site, reading.sensor, reading.value) == ("s", "meter", 1500.0)


def test_a_catalogue_topic_is_parsed_into_the_catalogues_own_strings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The validator's and the store's per-series tables then compare a sensor's strings by
    # address, not by content (docs/benchmarks.md, session 7), also after the cache is full.
    from ingest.decoders import json_decoder

    catalogue = _catalogue(_sensor("p1", "power"),
                           _sensor("wx_t", "temperature", topic="stadtpuls/s/wx", field="t"))
    MessageDecoder(catalogue)
    ((site, p1), _wx) = catalogue.sensors()

    def parsed(*levels: str) -> tuple[str | None, str]:
        return json_decoder.topic_identity("/".join(levels))  # a new string, as from the wire

    for rounds in range(2):
        got_site, got_sensor = parsed("stadtpuls", "s", "p1")
        assert got_site is site and got_sensor is p1.id, f"round {rounds}"
        assert parsed("stadtpuls", "s", "wx") == ("s", "wx"), "its layout names no sensor"
        monkeypatch.setattr(json_decoder, "_MAX_IDENTITIES", len(json_decoder._IDENTITIES))
        parsed("stadtpuls", "s", "junk")  # full: the cache starts again


# --- unregistered sensors -------------------------------------------------------------------


def test_unregistered_sensors_are_stored_marked_and_countable(validator: Validator) -> None:
    samples = [Sample("s", "power", T0, 1.0),
               Sample("s", "new", T0, 2.0, "power", "kW"),
               Sample("elsewhere", "new", T0, 3.0, "temperature")]
    readings = validator.to_readings(samples, "stadtpuls/s/x")
    assert [r.unregistered for r in readings] == [False, True, True]
    assert sum(r.unregistered for r in readings) == 2
    assert readings[1] == Reading("s", "new", Quantity.POWER, T0, 2000.0, False, True)
    assert readings[2].site == "elsewhere"  # a site the catalogue does not know either


def test_unregistered_without_quantity_is_rejected_with_the_fix(validator: Validator) -> None:
    with pytest.raises(Rejected, match=r"sensor 'new' \(site 's'\) is not in the catalogue and "
                                       r"the payload names no quantity: add it to the site "
                                       r"catalogue \(config/\*\.yaml\) or send \"quantity\""):
        _one(validator, Sample("s", "new", T0, 2.0))
    with pytest.raises(Rejected, match="key 'x' on topic 'stadtpuls/s/wx' matches no catalogue"):
        _one(validator, Sample("s", "wx", T0, 1.0, None, None, "x"), "stadtpuls/s/wx")


def test_reasons_stay_on_one_line_whatever_the_payload_names() -> None:
    decoder = MessageDecoder(CATALOGUE)
    uplink = {"end_device_ids": {"device_id": "aq", "application_ids": {"application_id": "a"}},
              "uplink_message": {"decoded_payload": {"x\ny": 1}}}
    messages = [("stadtpuls/s/wx", {"bad\nkey": 1}),
                ("v3/a@ttn/devices/aq/up", uplink),
                ("stadtpuls/s/x", {"value": 1, "quantity": "line\nbreak"})]
    for topic, payload in messages:
        with pytest.raises(Rejected) as info:
            decoder.decode(topic, json.dumps(payload).encode(), T0)
        assert "\n" not in info.value.reason and "\\n" in info.value.reason


def test_unknown_quantity_lists_the_known_ones(validator: Validator) -> None:
    with pytest.raises(Rejected, match=r"unknown quantity 'mood' .* known quantities: power, "):
        _one(validator, Sample("s", "new", T0, 2.0, "mood"))


@pytest.mark.parametrize(("site", "sensor", "reason"), [
    ("s", "bad\nid", "contains control characters"),
    ("s", "trailing\\", "ends with a backslash"),
    ("s", "x" * 300, "longer than 256 characters"),
    ("", "x", "site id is empty"),
])
def test_ids_from_the_wire_must_be_storable(
        validator: Validator, site: str, sensor: str, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        _one(validator, Sample(site, sensor, T0, 1.0, "power"))


def test_without_a_site_from_topic_or_catalogue_the_sample_is_rejected(
        validator: Validator) -> None:
    with pytest.raises(Rejected, match="cannot tell the site of sensor 'x' on topic 'a/x'"):
        _one(validator, Sample(None, "x", T0, 1.0, "power"), "a/x")


# --- TTN ------------------------------------------------------------------------------------


def _ttn(field: str, value: float, device: str = "aq", **extra: Any) -> Sample:
    return Sample("app", device, T0, value, extra.pop("quantity", None),
                  extra.pop("unit", None), field, device, **extra)


def test_ttn_fields_map_by_device_and_field_or_quantity_name(validator: Validator) -> None:
    readings = validator.to_readings([_ttn("pm2_5", 12.0), _ttn("co2", 900.0)], "v3/a/d/aq/up")
    assert [(r.site, r.sensor, r.quantity, r.unregistered) for r in readings] == [
        ("s", "pm", Quantity.PM2_5, False), ("s", "co2", Quantity.CO2, False)]


def test_ttn_health_is_stored_under_the_device_at_its_site(validator: Validator) -> None:
    battery = _ttn("battery", 120.0, quantity="battery", unit="%", health=True)
    rssi = _ttn("rssi", -70.0, quantity="rssi", unit="dBm", health=True)
    readings = validator.to_readings([battery, rssi], "v3/a/d/aq/up")
    assert readings == [Reading("s", "aq", Quantity.BATTERY, T0, 120.0, True, False),
                        Reading("s", "aq", Quantity.RSSI, T0, -70.0, False, False)]


def test_an_unknown_ttn_device_keeps_the_application_as_site(validator: Validator) -> None:
    readings = validator.to_readings(
        [_ttn("temperature", 20.0, device="new"),
         _ttn("snr", 7.0, device="new", quantity="snr", unit="dB", health=True)], "t")
    assert [(r.site, r.sensor, r.quantity, r.unregistered) for r in readings] == [
        ("app", "new", Quantity.TEMPERATURE, True), ("app", "new", Quantity.SNR, True)]
    with pytest.raises(Rejected, match="field 'rpm' of device 'aq' is not in the catalogue"):
        validator.to_readings([_ttn("rpm", 20.0)], "t")


def test_a_device_sending_value_is_the_sensor_with_that_id(validator: Validator) -> None:
    readings = validator.to_readings(
        [_ttn("value", 21.0, device="temp"),
         _ttn("battery", 80.0, device="temp", quantity="battery", unit="%", health=True)], "t")
    assert readings == [Reading("s", "temp", Quantity.TEMPERATURE, T0, 21.0),
                        Reading("s", "temp", Quantity.BATTERY, T0, 80.0)]


def test_the_value_convention_needs_an_id_unique_across_sites() -> None:
    twice = _catalogue(_sensor("temp", "temperature"),
                       other_site=[_sensor("temp", "temperature")])
    with pytest.raises(Rejected, match="field 'value' of device 'temp' is not in the catalogue"):
        Validator(twice).to_readings([_ttn("value", 21.0, device="temp")], "t")


# --- catalogue consistency ------------------------------------------------------------------


@pytest.mark.parametrize(("sensors", "other", "message"), [
    ([_sensor("a", "co2", decoder="ttn-v3", device="d", field="f"),
      _sensor("b", "co2", decoder="ttn-v3", device="d", field="f")], None,
     "device 'd' field 'f' is claimed by sensors s/a and s/b"),
    ([_sensor("a", "co2", decoder="ttn-v3", device="d")],
     [_sensor("b", "pm10", decoder="ttn-v3", device="d")], "has sensors in sites 's' and 't'"),
    ([_sensor("a", "co2", topic="x/y"), _sensor("b", "co2", topic="x/y")], None,
     "topic 'x/y' is claimed by sensors s/a and s/b"),
])
def test_inconsistent_catalogues_fail_at_start_up(
        sensors: list[dict[str, Any]], other: list[dict[str, Any]] | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MessageDecoder(_catalogue(*sensors, other_site=other))


def test_one_topic_has_one_decoder() -> None:
    catalogue = _catalogue(_sensor("a", "co2", topic="x/y"),
                           _sensor("b", "co2", topic="x/y", decoder="senml"))
    with pytest.raises(ValueError, match="topic 'x/y' has sensors with decoders 'json' and "
                                         "'senml'"):
        MessageDecoder(catalogue)
    # The catalogue schema itself refuses these (checked again at decoder start-up).
    with pytest.raises(ValueError, match="contains an MQTT wildcard"):
        MessageDecoder(_catalogue(_sensor("a", "co2", topic="x/+")))
    with pytest.raises(ValueError, match="a ttn-v3 sensor needs 'device'"):
        MessageDecoder(_catalogue(_sensor("a", "co2", decoder="ttn-v3")))


# --- MessageDecoder routing -----------------------------------------------------------------


def test_rejected_is_one_class() -> None:
    assert decoding.Rejected is validate.Rejected


def test_subscriptions_cover_custom_topics_once() -> None:
    decoder = MessageDecoder(CATALOGUE)
    assert decoder.subscriptions() == ["stadtpuls/#", "v3/+/devices/+/up", "plant/meter"]


@pytest.mark.parametrize(("topic_filter", "topic", "matches"), [
    ("stadtpuls/#", "stadtpuls/s/x", True),
    ("stadtpuls/#", "stadtpuls", True),
    ("stadtpuls/#", "other/s/x", False),
    ("v3/+/devices/+/up", "v3/app@ttn/devices/d/up", True),
    ("v3/+/devices/+/up", "v3/app@ttn/devices/d/join", False),
    ("v3/+/devices/+/up", "v3/app@ttn/devices/d/up/x", False),
    ("+/x", "$SYS/x", False),
    ("#", "$SYS/x", False),
    ("a/b", "a/b", True),
])
def test_topic_matches(topic_filter: str, topic: str, matches: bool) -> None:
    assert topic_matches(topic_filter, topic) is matches


def test_the_catalogue_topic_decides_the_decoder_over_the_layout() -> None:
    decoder = MessageDecoder(_catalogue(_sensor("n", "noise", decoder="raw")))
    (reading,) = decoder.decode("stadtpuls/s/n", b" 61.5 ", T0)
    assert reading.value == 61.5
    with pytest.raises(Rejected) as info:
        decoder.decode("stadtpuls/s/n", b'[{"v": 1}]', T0)
    assert info.value.reason.startswith("raw payload: payload b'[{\"v\": 1}]' is not a plain")
    # An object is never ambiguous with a number: re-flashed or simulated JSON is accepted.
    assert decoder.decode("stadtpuls/s/n", b'{"value": 1}', T0)[0].value == 1.0


# --- the Stühlinger catalogue and the simulators' wire formats ------------------------------


def test_stuehlinger_catalogue_decodes_every_wire_format() -> None:
    catalogue = load_catalogue(CONFIG)
    decoder = MessageDecoder(catalogue)
    for site, sensor in catalogue.sensors():
        if sensor.decoder != "ttn-v3":
            topic = Catalogue.topic_of(site, sensor)
            assert any(topic_matches(f, topic) for f in decoder.subscriptions()), topic
    messages: list[tuple[str, Any]] = [
        ("stadtpuls/stuehlinger/building_power",
         {"value": 12.5, "ts": "2025-06-01T12:00:00.000Z", "unit": "kW"}),
        ("stadtpuls/stuehlinger/weather_air_temperature", {"value": 21.3, "ts": 1748779200}),
        ("stadtpuls/freiburg/noise_bertoldsbrunnen", 58.5),
        ("stadtpuls/stuehlinger/senml",
         [{"bn": "urn:dev:stadtpuls:stuehlinger:", "bt": 1748779200,
           "n": "room_sitzungssaal_temperature", "u": "Cel", "v": 22.1},
          {"n": "room_sitzungssaal_humidity", "u": "%RH", "v": 41},
          {"n": "room_sitzungssaal_co2", "u": "ppm", "v": 640}]),
        ("v3/stadtpuls@ttn/devices/aq-schwarzwaldstrasse/up",
         {"end_device_ids": {"device_id": "aq-schwarzwaldstrasse",
                             "application_ids": {"application_id": "stadtpuls"}},
          "uplink_message": {"decoded_payload": {"pm2_5": 9.5, "pm10": 14, "no2": 22},
                             "received_at": "2025-06-01T12:00:00Z"}}),
    ]
    stored = []
    for topic, payload in messages:
        stored += decoder.decode(topic, json.dumps(payload).encode(), T0)
    assert len(stored) == 9
    assert not any(r.unregistered for r in stored)
    assert {r.sensor for r in stored} >= {"building_power", "room_sitzungssaal_co2",
                                          "air_schwarzwald_no2", "noise_bertoldsbrunnen"}


@pytest.mark.parametrize("name", ["messages_catalogue", "messages_senml", "messages_ttn"])
def test_the_simulators_golden_messages_decode_without_rejections(name: str) -> None:
    """Contract with simulators/formats.py: what the simulator publishes, ingest stores."""
    path = SIMULATOR_GOLDEN / f"{name}.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not present")
    # The golden run spans days, all "received" at T0: let its later readings be ahead of it.
    decoder = MessageDecoder(load_catalogue(CONFIG), EdgeLimits(max_future_s=365 * 86_400))
    readings: list[Reading] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        readings += decoder.decode(message["topic"], message["payload"].encode(), T0)
    assert readings
    assert not any(r.unregistered for r in readings)
