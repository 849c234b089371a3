"""Store refusals (`stadtpuls.refusal`) as every writer meets them, and the dead letters.

"The store refused this batch" is handled by one function; these tests check it from each of
its callers: the dead-letter replay, the demo's backfill and the dev data (the ingest's direct
path and its drainer are covered in tests/test_ingest_units.py).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest
from ingest_fakes import SITE, T0, FailingStore, TinyDecoder, payload

from demo.backfill import BackfillSink
from ingest.deadletter import DeadLetterStore, NewDeadLetter
from simulators.formats import Format
from simulators.messages import OutboundMessage
from stadtpuls.reading import Reading
from stadtpuls.refusal import isolate_rejected, write_isolating
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity
from testkit.devdata import write_all


def readings(sensors: str) -> list[Reading]:
    """One COUNT reading per letter, sensor = the letter, at T0 + position."""
    return [Reading(SITE, s, Quantity.COUNT, T0 + i, 1.0) for i, s in enumerate(sensors)]


# --- the one function ------------------------------------------------------------------------


def test_write_isolating_names_each_refused_origin_once_and_keeps_the_rest(
        tmp_path: Path) -> None:
    store = FailingStore(tmp_path / "s.db")
    store.refused_sensors = {"x"}
    rs = readings("aaxaxbbb")
    origins = [0, 0, 1, 1, 2, 3, 3, 4]
    kept, refused = write_isolating(store, rs, origins)
    assert refused == {1: "store rejected: refused sensor x",
                       2: "store rejected: refused sensor x"}
    assert [r.sensor for r in kept] == ["a", "a", "b", "b", "b"]
    assert sum(store.counts(0, 2**62, SITE).values()) == 6  # the "a" of message 1 is written
    store.refused_sensors = set()
    calls = store.write_calls
    kept, refused = write_isolating(store, rs, lambda: pytest.fail("origins asked for"))
    assert (len(kept), refused, store.write_calls) == (8, {}, calls + 1)
    store.close()


def test_isolate_rejected_finds_every_refused_reading(tmp_path: Path) -> None:
    store = FailingStore(tmp_path / "s.db")
    store.refused_sensors = {"x"}
    readings = [Reading(SITE, "x" if i % 17 == 0 else "a", Quantity.COUNT, T0 + i, 1.0)
                for i in range(100)]
    bad = isolate_rejected(store, readings)
    assert [i for i, _ in bad] == [i for i in range(100) if i % 17 == 0]
    assert sum(store.counts(0, 2**62, SITE).values()) == 100 - len(bad)
    store.close()


# --- dead letters ----------------------------------------------------------------------------


def test_deadletter_replay_after_the_catalogue_is_fixed(tmp_path: Path) -> None:
    dead = DeadLetterStore(tmp_path / "d.db")
    dead.add_many([NewDeadLetter(T0 + i, "t/x", payload("new", i), "unknown sensor 'new'")
                   for i in range(5)] + [NewDeadLetter(T0, "t/y", b"junk", "not json")])
    assert [d.received_at_ns for d in dead.newest(3)] == [T0, T0 + 4, T0 + 3]
    store = SQLiteStore(tmp_path / "store.db")
    result = dead.replay(TinyDecoder(known={"a"}), store)
    assert (result.replayed, result.still_rejected) == (0, 6)
    result = dead.replay(TinyDecoder(known={"a", "new"}), store)
    assert (result.replayed, result.readings, result.still_rejected) == (5, 5, 1)
    assert dead.count() == 1
    assert sum(store.counts(0, 2**62, SITE).values()) == 5
    assert dead.purge(T0 + 1) == 1 and dead.count() == 0
    dead.close()
    store.close()


def test_deadletters_are_shared_by_several_writers(tmp_path: Path) -> None:
    stores = [DeadLetterStore(tmp_path / "d.db") for _ in range(3)]

    def write(s: DeadLetterStore) -> None:
        for i in range(50):
            s.add_many([NewDeadLetter(i, "t", b"p", "r")])

    threads = [threading.Thread(target=write, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[0].count() == 150
    for s in stores:
        s.close()


def test_deadletter_replay_keeps_what_the_store_still_refuses(tmp_path: Path) -> None:
    dead = DeadLetterStore(tmp_path / "d.db")
    dead.add_many([NewDeadLetter(T0 + i, "t/x", payload(s, i), "unknown sensor")
                   for i, s in enumerate("abab")])
    store = FailingStore(tmp_path / "store.db")
    store.refused_sensors = {"b"}
    result = dead.replay(TinyDecoder(), store)
    assert (result.replayed, result.readings, result.still_rejected) == (2, 2, 2)
    assert result.reasons == {"store rejected: refused sensor b": 2}
    assert sorted(json.loads(d.payload)["sensor"] for d in dead.newest()) == ["b", "b"]
    assert sum(store.counts(0, 2**62, SITE).values()) == 2
    dead.close()
    store.close()


# --- the other writers -----------------------------------------------------------------------


def test_backfill_dead_letters_what_the_store_refuses(tmp_path: Path) -> None:
    store = FailingStore(tmp_path / "store.db")
    store.refused_sensors = {"bad"}
    sink = BackfillSink(TinyDecoder(), store, tmp_path / "d.db", batch=3)
    for i, sensor in enumerate(["a", "bad", "a", "a", "junk", "bad"]):
        body = b"junk" if sensor == "junk" else payload(sensor, i)
        sink(OutboundMessage(f"t/{sensor}", body, T0 + i, T0 + i, Format.JSON, (sensor,),
                             sensor))
    sink.close()
    assert (sink.readings, sink.rejected) == (3, 3)
    assert sum(store.counts(0, 2**62, SITE).values()) == 3
    dead = DeadLetterStore(tmp_path / "d.db")
    assert sorted((d.topic, d.reason.split(":")[0]) for d in dead.newest()) == [
        ("t/bad", "store rejected"), ("t/bad", "store rejected"), ("t/junk", "not a tiny payload")]
    dead.close()
    store.close()


def test_dev_data_leaves_out_and_reports_what_the_store_refuses(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = FailingStore(tmp_path / "store.db")
    store.refused_sensors = {"x"}
    with caplog.at_level(logging.WARNING, logger="stadtpuls.devdata"):
        assert write_all(store, readings("aaxaaxa"), batch=4) == 5
    assert sum(store.counts(0, 2**62, SITE).values()) == 5
    assert [r.getMessage().split(",")[0] for r in caplog.records
            if r.name == "stadtpuls.devdata"] == [
        "dev data: the store refused 1 simulated readings"] * 2
    store.close()
