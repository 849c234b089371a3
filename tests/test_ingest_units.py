"""Ingest delivery logic without a broker: inbound queue, session acks, batch builder,
delivery, spool, drainer, health. The fakes (`TinyDecoder`, `FailingStore`) are in
tests/ingest_fakes.py.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ingest_fakes import SITE, T0, FailingStore, TinyDecoder, payload
from waiting import wait

from ingest.batching import Batch, BatchBuilder
from ingest.config import IngestConfig
from ingest.deadletter import DeadLetterStore
from ingest.delivery import Delivery, RateLimitedLog
from ingest.drainer import Drainer
from ingest.health import HealthServer, StoreHealth
from ingest.inbound import InboundMessage, InboundQueue
from ingest.metrics import IngestMetrics
from ingest.mqtt.session import MqttSession
from ingest.spool import SourceMessage, Spool, SpooledBatch, decode_batch, encode_batch
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.settings import MqttSettings
from stadtpuls.units import Quantity


def msg(mid: int, body: bytes, topic: str = "t/x") -> InboundMessage:
    return InboundMessage(topic, body, mid, 1, time.time_ns(), 1)


class Rig:
    def __init__(self, tmp: Path, *, spool_max: int = 1_000_000, batch_size: int = 100,
                 known: set[str] | None = None) -> None:
        self.store = FailingStore(tmp / "store.db")
        self.spool = Spool(tmp / "spool.db", spool_max)
        self.dead = DeadLetterStore(tmp / "deadletter.db")
        self.metrics = IngestMetrics()
        self.health = StoreHealth()
        self.acked: list[int] = []
        self.drainer = Drainer(self.spool, self.store, self.dead, self.metrics, self.health,
                               batch_size=batch_size)
        self.builder = BatchBuilder(TinyDecoder(known), batch_size=batch_size, batch_ms=50)
        self.delivery = Delivery(self.store, self.spool, self.dead, self.metrics, self.health)
        self._held: Batch | None = None  # taken but not yet durable

    def flush(self) -> bool:
        """Take the batch and deliver it, as the service's writer does; a batch that cannot
        be made durable is kept and retried first. Acks what delivery returns."""
        if self._held is None:
            self._held = self.builder.take()
        if self._held is None:
            return True
        ackable = self.delivery.deliver(self._held)
        if ackable is None:
            return False
        self._held = None
        self.acked += [m.mid for m in ackable if m.qos]
        return True

    def stored(self, sensor: str | None = None) -> int:
        counts = self.store.counts(0, 2**62, site=SITE)
        return sum(n for k, n in counts.items() if sensor is None or k.sensor == sensor)

    def close(self) -> None:
        self.drainer.stop()
        self.spool.close()
        self.dead.close()
        self.store.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    wait(cond, timeout, step=0.01)


# --- inbound queue and session acks ---------------------------------------------------------


def test_full_queue_holds_the_network_thread_until_the_worker_takes() -> None:
    q = InboundQueue(2, 1 << 20, 60.0, IngestMetrics().overflows)
    q.put("t", b"1", 1, 1, 1)
    q.put("t", b"2", 2, 1, 1)
    third = threading.Thread(target=q.put, args=("t", b"3", 3, 1, 1))
    third.start()
    wait_for(lambda: q._space_wanted)
    assert third.is_alive() and q.depth == 2
    first = q.get()
    assert first is not None and first.mid == 1
    third.join(10)
    assert not third.is_alive() and not q.overflowed
    assert [m.mid for m in (q.get(), q.get()) if m is not None] == [2, 3]
    assert q.get() is None and q.depth == 0


def test_queue_still_full_leaves_messages_unqueued_and_counts_one_overflow() -> None:
    metrics = IngestMetrics()
    q = InboundQueue(1, 1 << 20, 0.01, metrics.overflows)
    for mid in (1, 2, 3):
        q.put("t", b"x", mid, 1, 1)
    assert q.overflowed and q.depth == 1
    assert metrics.registry.get_sample_value("stadtpuls_ingest_overflows_total") == 1
    got = q.get()
    assert got is not None and got.mid == 1 and q.get() is None
    q.close()
    q.put("t", b"x", 4, 1, 1)
    assert q.depth == 0, "a closed queue takes nothing"


def test_session_acks_only_qos1_messages_of_the_current_connection() -> None:
    config = IngestConfig(MqttSettings("127.0.0.1", 1, False, None, None), "unit", ["t/#"],
                          Path("/nonexistent"))
    session = MqttSession(config, InboundQueue(10, 1 << 20, 1.0, IngestMetrics().overflows),
                          IngestMetrics())
    sent: list[list[int]] = []
    session._client.queue_pubacks = lambda mids: sent.append(list(mids))  # type: ignore[method-assign]
    batch = [InboundMessage("t", b"", mid, qos, 0, gen)
             for mid, qos, gen in [(5, 1, 2), (3, 1, 1), (4, 0, 2), (9, 1, 2)]]
    session.ack(batch)
    assert sent == [], "not connected: nothing to ack on"
    session.connected, session._generation = True, 2
    session.ack(batch)
    assert sent == [[5, 9]]


# --- batch builder and delivery ------------------------------------------------------------------


def test_flush_writes_then_acks_in_receive_order(rig: Rig) -> None:
    for i in range(10):
        rig.builder.add(msg(100 - i, payload("a", i)))
    assert rig.acked == []
    assert rig.flush()
    assert rig.acked == [100 - i for i in range(10)]
    assert rig.stored("a") == 10
    assert rig.metrics.registry.get_sample_value(
        "stadtpuls_ingest_messages_total", {"outcome": "accepted"}) == 10


def test_batch_is_due_by_size_or_age(rig: Rig) -> None:
    rig.builder.add(msg(1, payload("a", 0)))
    assert not rig.builder.due(time.monotonic())
    assert rig.builder.due(time.monotonic() + 0.06)
    for i in range(1, 100):
        rig.builder.add(msg(1 + i, payload("a", i)))
    assert rig.builder.due(time.monotonic())


def test_rejected_message_is_dead_lettered_and_acked_in_order(rig: Rig) -> None:
    rig.builder.add(msg(1, payload("a", 1)))
    rig.builder.add(msg(2, b"\x00 not json", topic="t/broken"))
    rig.builder.add(msg(3, payload("a", 3)))
    assert rig.flush()
    assert rig.acked == [1, 2, 3]
    [letter] = rig.dead.newest()
    assert (letter.topic, letter.payload) == ("t/broken", b"\x00 not json")
    assert letter.reason.startswith("not a tiny payload")
    assert rig.stored() == 2


def test_store_down_spools_acks_and_drains_in_order(rig: Rig) -> None:
    rig.store.down = True
    for i in range(5):
        rig.builder.add(msg(i + 1, payload("a", 0, value=i)))  # same identity, new values
        assert rig.flush()
    assert rig.acked == [1, 2, 3, 4, 5]
    assert rig.spool.batches == 5 and rig.spool.depth == 5
    assert not rig.health.ok
    calls = rig.store.write_calls
    rig.builder.add(msg(6, payload("a", 1)))
    assert rig.flush()
    assert rig.store.write_calls == calls, "must not write past older spooled batches"
    rig.store.down = False
    rig.drainer.start()
    wait_for(rig.spool.is_empty)
    assert rig.stored("a") == 2
    key = SeriesKey(SITE, "a", Quantity.COUNT)
    assert rig.store.counts(T0, T0 + 1, SITE)[key] == 1
    assert rig.health.ok
    value = rig.metrics.registry.get_sample_value
    assert value("stadtpuls_ingest_readings_written_total") == 6
    assert value("stadtpuls_ingest_write_readings_sum") == 6  # drained, in however many writes
    writes = value("stadtpuls_ingest_write_readings_count")
    rig.builder.add(msg(7, payload("a", 2)))
    rig.builder.add(msg(8, payload("b", 2)))
    assert rig.flush()  # straight to the store: one write of two readings
    assert value("stadtpuls_ingest_write_readings_count") == writes + 1
    assert value("stadtpuls_ingest_write_readings_sum") == 8


def test_last_received_value_wins_across_an_outage(rig: Rig) -> None:
    rig.store.down = True
    for i, value in enumerate([1.0, 2.0, 3.0]):
        rig.builder.add(msg(i + 1, payload("a", 0, value=value)))
        assert rig.flush()
    rig.store.down = False
    rig.builder.add(msg(9, payload("a", 0, value=4.0)))
    assert rig.flush()  # goes behind the spooled ones
    rig.drainer.start()
    wait_for(rig.spool.is_empty)
    assert rig.store.latest(SITE)[SeriesKey(SITE, "a", Quantity.COUNT)].value == 4.0


def test_full_spool_stops_acking_until_the_drainer_makes_room(tmp_path: Path) -> None:
    r = Rig(tmp_path, spool_max=3, batch_size=2)
    try:
        r.store.down = True
        for i in range(2):
            r.builder.add(msg(10 + i, payload("a", i)))
        assert r.flush()
        r.builder.add(msg(12, payload("a", 2)))
        r.builder.add(msg(13, payload("a", 3)))
        assert not r.flush(), "3 readings max: the second batch must wait"
        assert r.acked == [10, 11]
        assert not r.flush()
        r.store.down = False
        r.drainer.start()
        wait_for(r.spool.is_empty)
        assert r.flush()
        assert r.acked == [10, 11, 12, 13]
        wait_for(lambda: r.stored("a") == 4)
    finally:
        r.close()


def test_store_rejected_readings_are_isolated_and_dead_lettered(rig: Rig) -> None:
    rig.store.refused_sensors = {"bad"}
    for i in range(40):
        sensor = "bad" if i in (7, 23) else "a"
        rig.builder.add(msg(i + 1, payload(sensor, i)))
    assert rig.flush()
    assert rig.acked == list(range(1, 41))
    assert rig.stored("a") == 38 and rig.stored("bad") == 0
    letters = rig.dead.newest()
    assert sorted(json.loads(d.payload)["ts"] - T0 for d in letters) == [7, 23]
    assert all(d.reason.startswith("store rejected: refused sensor bad") for d in letters)


def test_spooled_batch_refused_later_is_dead_lettered_from_the_spool(rig: Rig) -> None:
    rig.store.down = True
    rig.builder.add(msg(1, payload("a", 1)))
    rig.builder.add(msg(2, payload("bad", 2), topic="t/bad"))
    assert rig.flush()
    rig.store.down = False
    rig.store.refused_sensors = {"bad"}
    rig.drainer.start()
    wait_for(rig.spool.is_empty)
    [letter] = rig.dead.newest()
    assert letter.topic == "t/bad" and json.loads(letter.payload)["sensor"] == "bad"
    assert rig.stored("a") == 1


def test_pipeline_readings_take_the_same_path(rig: Rig) -> None:
    rig.builder.add(msg(1, payload("a", 1)))
    assert rig.flush()
    rig.builder.add_internal(rig.metrics.pipeline_readings("me", T0))
    assert rig.flush()
    figures = {k.sensor: n for k, n in rig.store.counts(0, 2**62, "_pipeline").items()}
    assert "me/messages_accepted" in figures and "me/readings_written" in figures
    latest = rig.store.latest("_pipeline")
    assert latest[SeriesKey("_pipeline", "me/messages_accepted", Quantity.COUNT)].value == 1
    assert latest[SeriesKey("_pipeline", "me/store_ok", Quantity.COUNT)].value == 1
    assert rig.acked == [1]


# --- spool -----------------------------------------------------------------------------------


def test_spool_survives_reopen_and_keeps_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db")
    for i in range(3):
        r = Reading(SITE, "a", Quantity.POWER, T0 + i, i * 1.5, implausible=i == 1,
                    unregistered=i == 2)
        spool.append(SpooledBatch([SourceMessage("t", b"\xff\x00", T0)], [r], [0]))
    spool.close()
    spool = Spool(tmp_path / "s.db")
    assert (spool.batches, spool.depth) == (3, 3)
    items = spool.oldest(2)
    assert [b.readings[0].time_ns - T0 for _, b in items] == [0, 1]
    assert items[1][1].readings[0].implausible and items[0][1].messages[0].payload == b"\xff\x00"
    spool.delete([rowid for rowid, _ in items])
    assert spool.depth == 1
    spool.close()


def test_spool_bound_admits_one_oversized_batch_when_empty(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_readings=2)
    readings = [Reading(SITE, "a", Quantity.COUNT, T0 + i, 1.0) for i in range(5)]
    batch = SpooledBatch([SourceMessage("t", b"", 0)], readings, [0] * 5)
    assert spool.append(batch)
    assert not spool.append(batch)
    assert spool.full
    spool.close()


def test_spool_is_bounded_in_bytes_too_and_counts_them_across_reopen(tmp_path: Path) -> None:
    # One reading per large payload: the readings bound alone would let the disk fill.
    noise = random.Random(0).randbytes(250_000)  # incompressible, as the spool stores it
    big = SpooledBatch([SourceMessage("t", noise, 0)],
                       [Reading(SITE, "a", Quantity.COUNT, T0, 1.0)], [0])
    spool = Spool(tmp_path / "s.db", max_bytes=600_000)
    assert spool.append(big) and spool.append(big)  # about 250 kB each as stored
    assert not spool.append(big) and spool.full
    spool.close()
    spool = Spool(tmp_path / "s.db", max_bytes=600_000)  # the stored bytes are counted again
    assert spool.batches == 2 and not spool.append(big)
    spool.delete([rowid for rowid, _ in spool.oldest(1)])
    assert spool.append(big)
    spool.close()


def test_batch_encoding_round_trips() -> None:
    readings = [Reading("s é", "x,y=z", Quantity.ENERGY, T0, -0.1, True, False)]
    batch = SpooledBatch([SourceMessage("a/ü", bytes(range(256)), 5)], readings, [0])
    assert decode_batch(encode_batch(batch)) == batch


# --- logs, health, metrics -------------------------------------------------------------------


def test_rate_limited_log_counts_what_it_skipped(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limiter = RateLimitedLog(10.0, clock=lambda: now[0])
    with caplog.at_level("WARNING", logger="stadtpuls.ingest"):
        for _ in range(5):
            limiter.warning("bad json", "rejected %s", "x")
        now[0] = 11.0
        limiter.warning("bad json", "rejected %s", "y")
    assert [r.getMessage() for r in caplog.records] == [
        "rejected x", "rejected y (and 4 more like it in the last 10 s)"]


def test_health_and_metrics_endpoints() -> None:
    metrics = IngestMetrics()
    metrics.accepted.inc(3)
    state = {"ok": True}
    server = HealthServer("127.0.0.1", 0, lambda: (state["ok"], {"broker": "connected"}),
                          metrics.exposition)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
            assert resp.status == 200 and json.load(resp) == {"broker": "connected"}
        state["ok"] = False
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
        assert err.value.code == 503
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        assert 'stadtpuls_ingest_messages_total{outcome="accepted"} 3.0' in text
        for name in ("stadtpuls_ingest_readings_written_total", "stadtpuls_ingest_spool_depth",
                     "stadtpuls_ingest_write_seconds_bucket",
                     "stadtpuls_ingest_newest_reading_age_seconds",
                     "stadtpuls_ingest_broker_connected"):
            assert name in text
    finally:
        server.stop()


# --- command line ----------------------------------------------------------------------------


def test_ingest_exits_2_with_one_line_on_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    from stadtpuls.cli import main

    assert main(["ingest", "--mqtt-url", "http://nope", "--http-port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "MQTT URL" in err[0]


def test_ingest_exits_2_listing_catalogue_problems(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from stadtpuls.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsites: {x: {nmae: 1}}\n")
    assert main(["ingest", "--catalogue", str(bad), "--http-port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "stadtpuls config check" in err
