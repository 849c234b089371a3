"""Limits at the edge (issue 9) without servers: payload size, SenML records, time window,
storable times, retained messages, a pack's own site, unregistered sensors and the new-series
cap, bounded caches, the raw decoder's regex and the cost of isolating refused readings.
The same cases against the real Mosquitto, InfluxDB and SQLite are in
tests/test_ingest_edge_integration.py.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from ingest_fakes import SITE, T0, FailingStore
from test_validate import _catalogue, _sensor

from ingest import validate
from ingest.batching import BatchBuilder
from ingest.deadletter import DeadLetterStore, letters_for
from ingest.decoders import raw
from ingest.decoders.contract import Rejected
from ingest.decoding import MessageDecoder
from ingest.inbound import InboundMessage
from ingest.limits import DEAD_LETTER_HEAD_BYTES, MAX_PAYLOAD_BYTES, EdgeLimits
from ingest.series_budget import SeriesBudget
from stadtpuls.catalogue import Catalogue, CatalogueError, load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.refusal import isolate_rejected, write_isolating
from stadtpuls.timebase import MAX_NS, MIN_NS, NS_PER_DAY, NS_PER_HOUR, NS_PER_S, from_ns
from stadtpuls.units import Quantity
from testkit.counting_store import CountingStore

NOW = 1_750_000_000 * NS_PER_S  # 2025-06-15, "reception"
CATALOGUE = _catalogue(_sensor("power", "power", unit="W"))


@pytest.fixture
def decoder() -> MessageDecoder:
    return MessageDecoder(CATALOGUE)


def reason(decoder: MessageDecoder, topic: str, payload: bytes, now: int = NOW) -> str:
    with pytest.raises(Rejected) as err:
        decoder.decode(topic, payload, now)
    return err.value.reason


# --- 1. size -------------------------------------------------------------------------------


def test_an_oversized_payload_is_refused_before_decoding_and_keeps_only_its_head(
        tmp_path: Path) -> None:
    decoder = MessageDecoder(CATALOGUE)
    big = b"[" + b'{"n":"power","v":1},' * 20_000 + b'{"n":"power","v":1}]'
    assert len(big) > MAX_PAYLOAD_BYTES
    why = reason(decoder, "stadtpuls/s/senml", big)
    assert why.startswith("payload too large") and str(len(big)) in why
    builder = BatchBuilder(decoder)
    builder.add(InboundMessage("stadtpuls/s/senml", big, 1, 1, NOW, 1))
    batch = builder.take()
    assert batch is not None and batch.dead == [(0, why)]
    assert batch.messages[0].payload == big[:DEAD_LETTER_HEAD_BYTES]
    # the replay never decodes a head as if it were the message
    dead = DeadLetterStore(tmp_path / "d.db")
    dead.add_many(letters_for(batch.messages, batch.dead))
    store = FailingStore(tmp_path / "s.db")
    result = dead.replay(MessageDecoder(CATALOGUE, EdgeLimits(max_payload_bytes=10**9)), store)
    assert (result.replayed, result.still_rejected, dead.count()) == (0, 1, 1)
    assert dead.reasons() == {why: 1}
    dead.close()
    store.close()


def test_the_payload_limit_is_configurable_and_a_pack_has_a_record_cap() -> None:
    small = MessageDecoder(CATALOGUE, EdgeLimits(max_payload_bytes=10))
    assert "11 bytes, the limit is 10" in reason(small, "stadtpuls/s/power", b"1" * 11)
    capped = MessageDecoder(CATALOGUE, EdgeLimits(max_pack_records=3))
    pack = json.dumps([{"n": "power", "v": i, "t": 0} for i in range(4)]).encode()
    assert "4 records, more than the limit of 3" in reason(capped, "stadtpuls/s/senml", pack)
    three = json.dumps([{"n": "power", "v": i, "t": 0} for i in range(3)]).encode()
    assert len(capped.decode("stadtpuls/s/senml", three, NOW)) == 3


def test_limits_are_checked_like_every_setting() -> None:
    from stadtpuls.settings import SettingsError

    with pytest.raises(SettingsError, match="--max-payload-bytes must be positive"):
        EdgeLimits(max_payload_bytes=0)
    with pytest.raises(SettingsError, match="--new-series-per-hour"):
        EdgeLimits(new_series_per_hour=-1)


def test_limits_come_from_flags_then_environment_then_defaults(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from ingest.cli import configure_parser
    from stadtpuls.settings import SettingsError, ingest_limits

    parser = argparse.ArgumentParser()
    configure_parser(parser)
    assert EdgeLimits(**ingest_limits(parser.parse_args([]))) == EdgeLimits()
    monkeypatch.setenv("STADTPULS_INGEST_MAX_PAYLOAD_BYTES", "1000")
    monkeypatch.setenv("STADTPULS_INGEST_RETENTION_DAYS", "30")
    limits = EdgeLimits(**ingest_limits(parser.parse_args(["--max-payload-bytes", "2000"])))
    assert (limits.max_payload_bytes, limits.retention_days) == (2000, 30)
    assert limits.max_pack_records == 10_000
    monkeypatch.setenv("STADTPULS_INGEST_MAX_FUTURE_S", "soon")
    with pytest.raises(SettingsError, match="STADTPULS_INGEST_MAX_FUTURE_S='soon'"):
        ingest_limits(parser.parse_args([]))


def test_the_deployment_test_uses_the_ingest_limit() -> None:
    text = (Path(__file__).parent / "test_deployment.py").read_text()
    assert "from ingest.limits import MAX_PAYLOAD_BYTES" in text


# --- 2. time -------------------------------------------------------------------------------

HOUR_AHEAD_S = NOW // NS_PER_S + 3600
HOUR_AHEAD_ISO = from_ns(NOW + NS_PER_HOUR).isoformat().encode()
TIME_FORMS: dict[str, tuple[str, bytes]] = {
    "json seconds": ("stadtpuls/s/power", b'{"value":1,"ts":%d}' % HOUR_AHEAD_S),
    "json milliseconds": ("stadtpuls/s/power", b'{"value":1,"ts":%d}' % (HOUR_AHEAD_S * 1000)),
    "json iso": ("stadtpuls/s/power", b'{"value":1,"ts":"%s"}' % HOUR_AHEAD_ISO),
    "json nested": ("stadtpuls/s/power", b'{"power":{"value":1,"ts":%d}}' % HOUR_AHEAD_S),
    "senml seconds": ("stadtpuls/s/senml", b'[{"n":"power","v":1,"t":%d}]' % HOUR_AHEAD_S),
    "senml relative": ("stadtpuls/s/senml", b'[{"n":"power","v":1,"t":3600}]'),
    "ttn iso": ("v3/app@ttn/devices/d1/up",
                b'{"end_device_ids":{"device_id":"d1"},"uplink_message":{"received_at":'
                b'"%s","decoded_payload":{"power":1}}}' % HOUR_AHEAD_ISO),
}


@pytest.mark.parametrize("form", TIME_FORMS)
def test_a_reading_an_hour_ahead_is_refused_in_every_time_form(
        decoder: MessageDecoder, form: str) -> None:
    topic, payload = TIME_FORMS[form]
    why = reason(decoder, topic, payload)
    assert "ahead of reception" in why and "--max-future-s" in why
    if form != "senml relative":  # the same message is fine when it arrives an hour later
        assert decoder.decode(topic, payload, NOW + NS_PER_HOUR)


@pytest.mark.parametrize("ts", [99_999_999_999_999, 99_999_999_999_999.5, -99_999_999_999_999,
                                1e13, "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_a_ts_beyond_int64_nanoseconds_is_refused_not_overflowed(
        decoder: MessageDecoder, ts: Any) -> None:
    why = reason(decoder, "stadtpuls/s/power", json.dumps({"value": 1, "ts": ts}).encode())
    assert "storable range" in why or "ahead of reception" in why or "retention" in why


def test_readings_older_than_the_retention_are_refused() -> None:
    decoder = MessageDecoder(CATALOGUE, EdgeLimits(retention_days=30))
    old = b'{"value":1,"ts":%d}' % ((NOW - 31 * NS_PER_DAY) // NS_PER_S)
    assert "older than the retention of 30 days" in reason(decoder, "stadtpuls/s/power", old)
    recent = b'{"value":1,"ts":%d}' % ((NOW - 29 * NS_PER_DAY) // NS_PER_S)
    assert decoder.decode("stadtpuls/s/power", recent, NOW)


def test_a_reading_refuses_a_time_no_store_can_keep() -> None:
    for time_ns in (MIN_NS, MAX_NS - 1):
        assert Reading(SITE, "a", Quantity.COUNT, time_ns, 1.0).time_ns == time_ns
    for time_ns in (MIN_NS - 1, MAX_NS, 99_999_999_999_999 * 1_000_000):
        with pytest.raises(ValueError, match="storable range"):
            Reading(SITE, "a", Quantity.COUNT, time_ns, 1.0)


# --- 3. retained messages ------------------------------------------------------------------


def test_a_retained_message_without_its_own_time_is_acked_not_stored(
        decoder: MessageDecoder) -> None:
    builder = BatchBuilder(decoder)
    builder.add(InboundMessage("stadtpuls/s/power", b"42.5", 1, 1, NOW, 1, True))
    builder.add(InboundMessage("stadtpuls/s/power", b'{"value":1,"ts":%d}'
                               % (NOW // NS_PER_S - 60), 2, 1, NOW, 1, True))
    builder.add(InboundMessage("stadtpuls/s/power", b"43.5", 3, 1, NOW + 1, 1))
    batch = builder.take()
    assert batch is not None
    assert [m.mid for m in batch.messages] == [1, 2, 3]  # all acked, in order
    assert batch.counts == [0, 1, 1] and batch.dead == [] and batch.skipped_retained == 1
    assert [r.value for r in batch.readings] == [1.0, 43.5]


# --- 4. a pack's own site ------------------------------------------------------------------


def test_a_senml_name_of_another_site_is_refused(decoder: MessageDecoder) -> None:
    pack = b'[{"n":"urn:dev:stadtpuls:t:power","v":1}]'
    why = reason(decoder, "stadtpuls/s/senml", pack)
    assert "belongs to site 't'" in why and "own site" in why
    own = decoder.decode("stadtpuls/s/senml", pack.replace(b":t:", b":s:"), NOW)
    assert [(r.site, r.sensor) for r in own] == [("s", "power")]


# --- 5. unregistered sensors ---------------------------------------------------------------


def _policy_catalogue(policy: str) -> Catalogue:
    data = _catalogue(_sensor("power", "power")).model_dump(mode="json", exclude_none=True)
    data["sites"]["s"]["unregistered"] = policy
    return Catalogue.model_validate(data)


def test_a_site_can_dead_letter_unregistered_sensors() -> None:
    decoder = MessageDecoder(_policy_catalogue("dead-letter"))
    why = reason(decoder, "stadtpuls/s/madeup", b'{"value":1,"quantity":"power"}')
    assert "unregistered: dead-letter" in why
    assert decoder.decode("stadtpuls/s/power", b"1", NOW)  # catalogue sensors as before
    # another site (not in the catalogue) keeps the default: accept, marked
    other = decoder.decode("stadtpuls/x/madeup", b'{"value":1,"quantity":"power"}', NOW)
    assert other[0].unregistered


def test_config_check_validates_the_policy(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    text = (Path(__file__).parent / "golden" / "decoders" / "catalogue.yaml").read_text()
    path.write_text(text.replace("    timezone: Europe/Berlin\n",
                                 "    timezone: Europe/Berlin\n    unregistered: reject\n", 1))
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    assert any("unregistered" in str(p) and "dead-letter" in str(p)
               for p in err.value.problems)


def test_new_unregistered_series_are_capped_per_site_and_hour() -> None:
    clock = [0.0]
    budget = SeriesBudget(3, clock=lambda: clock[0])
    catalogue = _catalogue(_sensor("power", "power"), other_site=[_sensor("p", "power")])
    validator = validate.Validator(catalogue, budget)
    decoder = MessageDecoder(catalogue)
    decoder._validator = validator  # the same decoder, with a budget we can clock

    def send(site: str, sensor: str) -> list[Reading] | str:
        try:
            return decoder.decode(f"stadtpuls/{site}/{sensor}",
                                  b'{"value":1,"quantity":"power"}', NOW)
        except Rejected as exc:
            return exc.reason

    assert all(isinstance(send("s", f"n{i}"), list) for i in range(3))
    over = send("s", "n3")
    assert isinstance(over, str) and "new series limit: 3" in over and "site 's'" in over
    assert isinstance(send("s", "n0"), list)  # a known series goes on
    assert isinstance(send("t", "n9"), list)  # each catalogue site has its own budget
    for i in range(3):  # sites outside the catalogue share one
        assert isinstance(send(f"made{i}", "x"), list)
    assert "sites outside the catalogue" in str(send("made9", "x"))
    assert budget.refused == 2
    clock[0] += 3600  # the next hour
    assert isinstance(send("s", "n3"), list)


# --- 6. bounded caches, linear regex, refusal cost -----------------------------------------


def test_the_unit_cache_is_bounded_whatever_the_spellings(decoder: MessageDecoder) -> None:
    for i in range(3_000):
        unit = " " * i + "kW"
        decoder.decode("stadtpuls/s/power", json.dumps({"value": 1, "unit": unit}).encode(),
                       NOW)
    info = validate._converter.cache_info()
    assert info.maxsize is not None and info.currsize <= info.maxsize


def _decoder_patterns() -> list[tuple[str, str]]:
    import importlib
    import pkgutil

    import ingest.decoders

    found = []
    for info in pkgutil.iter_modules(ingest.decoders.__path__):
        module = importlib.import_module(f"ingest.decoders.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                pattern = value.pattern
                found.append((f"{info.name}.{name}",
                              pattern.decode() if isinstance(pattern, bytes) else pattern))
    return found


def test_no_decoder_pattern_has_a_repeated_group_with_a_quantifier() -> None:
    patterns = _decoder_patterns()
    assert {name for name, _ in patterns} >= {"raw.NUMBER", "senml._NAME"}
    for name, pattern in patterns:
        # a group that repeats (*, +, {n,}) and holds a quantifier is the classic catastrophic
        # backtracking shape; an optional group (?) is fine
        for m in re.finditer(r"\((?:\?:)?([^()]*)\)([*+]|\{\d*,)", pattern):
            assert not re.search(r"[*+?}]", m.group(1)), (name, m.group(0))
    assert "\\d+\\.?\\d*" not in raw.NUMBER.pattern.decode()  # the old ambiguous digit run


def test_the_raw_decoder_fails_in_linear_time_and_refuses_a_huge_payload() -> None:
    def fastest(payload: bytes) -> float:
        best = float("inf")
        for _ in range(7):
            started = time.perf_counter()
            raw.NUMBER.fullmatch(payload)
            best = min(best, time.perf_counter() - started)
        return best

    # Sizes in the millisecond range, so the ratio is not lost in timer noise.
    small, large = fastest(b"1" * 20_000 + b"x"), fastest(b"1" * 200_000 + b"x")
    # linear: about 10x; the old pattern was quadratic (about 100x)
    assert large / small < 40, (small, large)
    hostile = b"1" * 1_000_000 + b"x"
    with pytest.raises(Exception, match="not a plain number"):
        raw.decode("stadtpuls/s/n", hostile, NOW)
    assert "payload too large" in reason(MessageDecoder(CATALOGUE), "stadtpuls/s/n", hostile)


def _mostly_refused(tmp_path: Path, n: int, refused: Any) -> tuple[CountingStore, list[Any]]:
    inner = FailingStore(tmp_path / "s.db")
    inner.refused_sensors = {"x"}
    store = CountingStore(inner)  # type: ignore[arg-type]
    readings = [Reading(SITE, "x" if refused(i) else "a", Quantity.COUNT, T0 + i, 1.0)
                for i in range(n)]
    return store, readings


@pytest.mark.parametrize("every", [1, 2, 3, 10])
def test_isolating_many_refused_readings_costs_far_fewer_than_2n_writes(
        tmp_path: Path, every: int) -> None:
    n = 1_000
    store, readings = _mostly_refused(tmp_path, n, lambda i: i % every == 0)
    kept, refused = write_isolating(store, readings, list(range(n)))
    assert sorted(refused) == [i for i in range(n) if i % every == 0]
    assert len(kept) == n - len(refused)
    assert store.writes < 1.2 * n, store.writes
    store.close()


def test_isolating_one_refused_reading_still_costs_about_2_log_n_writes(tmp_path: Path) -> None:
    n = 1_000
    store, readings = _mostly_refused(tmp_path, n, lambda i: i == 617)
    assert [i for i, _ in isolate_rejected(store, readings)] == [617]
    assert store.writes <= 2 * 10
    store.close()
