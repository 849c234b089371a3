"""Issue 9 hardening of the ingest's write path, without a broker: every store exception
classified, the drainer supervised, /healthz telling the truth without telling strangers
anything, bounded dead letters, escaped dead-letter listings, fixed log-limit keys, and
spools of other client ids taken over."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ingest_fakes import SITE, T0, FailingStore, TinyDecoder, payload
from waiting import wait

from ingest.config import IngestConfig
from ingest.deadletter import DeadLetterStore, NewDeadLetter
from ingest.delivery import Delivery
from ingest.health import DurableHealth, StoreHealth
from ingest.inbound import InboundMessage
from ingest.metrics import IngestMetrics
from ingest.service import IngestService
from ingest.spool import SourceMessage, Spool, SpooledBatch, SpoolError
from stadtpuls.printable import printable
from stadtpuls.reading import Reading
from stadtpuls.settings import MqttSettings
from stadtpuls.store import StoreRejected, StoreUnavailable
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import MAX_NS
from stadtpuls.units import Quantity
from testkit.crashing_store import CrashingStore

MQTT = MqttSettings("broker.example", 8883, True, "ingest-user", "s3cret")


def wait_for(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    wait(cond, timeout, step=0.01)


def msg(mid: int, body: bytes, topic: str = "t/x") -> InboundMessage:
    return InboundMessage(topic, body, mid, 1, time.time_ns(), 1)


def config(tmp: Path, client_id: str = "ingest-secret-id", **kw: object) -> IngestConfig:
    return IngestConfig(mqtt=MQTT, client_id=client_id, topic_filters=["t/#"],
                        data_dir=tmp / "data", http_port=0, stats_interval_s=0,
                        **kw)  # type: ignore[arg-type]


def reading(sensor: str = "a", time_ns: int = T0) -> Reading:
    return Reading(SITE, sensor, Quantity.COUNT, time_ns, 1.0)


@pytest.fixture
def service_parts(tmp_path: Path) -> Iterator[tuple[Path, FailingStore]]:
    store = FailingStore(tmp_path / "store.db")
    yield tmp_path, store
    store.close()


# --- 6: every write-path exception is retry-later or bad data --------------------------------


def unchecked(reading: Reading, time_ns: int) -> Reading:
    """A reading with a time `Reading` itself refuses today — as an older version could
    have built it, or a bug could: the layers behind it must still hold."""
    object.__setattr__(reading, "time_ns", time_ns)
    return reading


def test_sqlite_store_refuses_a_time_it_cannot_hold_as_bad_data(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    try:
        with pytest.raises(StoreRejected, match="OverflowError"):
            store.write([unchecked(reading(), MAX_NS + 1)])
        store.write([reading()])  # the store itself is fine
    finally:
        store.close()


def test_sqlite_store_locked_by_another_writer_is_unavailable(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", timeout_s=0.05)
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable, match="locked"):
            store.write([reading()])
    finally:
        other.close()
        store.close()


def test_out_of_range_reading_from_the_spool_is_dead_lettered_not_a_stall(
        service_parts: tuple[Path, FailingStore]) -> None:
    tmp, store = service_parts
    service = IngestService(config(tmp), TinyDecoder(), store)
    try:
        service.spool.append(SpooledBatch(
            [SourceMessage("t/far", b"far", T0), SourceMessage("t/ok", b"ok", T0)],
            [unchecked(reading("far"), MAX_NS + 1), reading("ok")], [0, 1]))
        service.drainer.start()
        wait_for(service.spool.is_empty)
        [letter] = service.deadletters.newest()
        assert letter.topic == "t/far" and "storable range" in letter.reason
        assert store.counts(0, MAX_NS, SITE) == {reading("ok").key: 1}
        assert service.drainer.restarts == 0
    finally:
        service.stop()


def test_drainer_restarts_after_an_unexpected_exception_and_health_shows_it(
        service_parts: tuple[Path, FailingStore]) -> None:
    tmp, store = service_parts
    service = IngestService(config(tmp), TinyDecoder(), CrashingStore(store, crashes=1))
    try:
        service.spool.append(SpooledBatch([SourceMessage("t/x", payload("a", 1), T0)],
                                          [reading()], [0]))
        service.drainer.start()
        wait_for(service.spool.is_empty)
        assert store.counts(0, MAX_NS, SITE) == {reading().key: 1}
        _, body = service.health()
        assert body["drainer_restarts"] == 1 and body["drainer"] == "alive"
        sample = service.metrics.registry.get_sample_value
        assert sample("stadtpuls_ingest_drainer_restarts_total") == 1
        assert sample("stadtpuls_ingest_drainer_alive") == 1
    finally:
        service.stop()


def test_unexpected_store_exception_on_the_direct_path_spools_and_acks(tmp_path: Path) -> None:
    store = FailingStore(tmp_path / "store.db")
    spool = Spool(tmp_path / "spool.db")
    dead = DeadLetterStore(tmp_path / "deadletter.db")
    metrics = IngestMetrics()
    delivery = Delivery(CrashingStore(store, exc=KeyError), spool, dead, metrics, StoreHealth())
    try:
        from ingest.batching import BatchBuilder

        builder = BatchBuilder(TinyDecoder(), batch_size=10, batch_ms=50)
        builder.add(msg(1, payload("a", 1)))
        batch = builder.take()
        assert batch is not None
        ackable = delivery.deliver(batch)
        assert ackable is not None and [m.mid for m in ackable] == [1]
        assert spool.depth == 1
    finally:
        spool.close()
        dead.close()
        store.close()


# --- 7: health tells the truth, and nothing to strangers ----------------------------------------


def test_health_names_fixed_reasons_and_no_url_client_id_or_error_text(
        service_parts: tuple[Path, FailingStore]) -> None:
    tmp, store = service_parts
    service = IngestService(config(tmp), TinyDecoder(), store)
    try:
        service.store_health.down(StoreUnavailable("token tok-123 refused at influx.internal"),
                                  service.metrics)
        service.durable.failed("spool", SpoolError("/srv/data/spool.db: disk I/O error"),
                               service.metrics)
        ok, body = service.health()
        assert not ok
        assert "not connected to the broker" in body["reasons"]
        assert "cannot write the spool or dead letters (disk full or read-only)" in \
            body["reasons"]
        assert body["durable"] == "failing"
        text = json.dumps(body)
        for secret in ("broker.example", "8883", "ingest-secret-id", "tok-123", "influx.internal",
                       "/srv/data", "I/O"):
            assert secret not in text
        assert service.metrics.registry.get_sample_value("stadtpuls_ingest_durable_ok") == 0
    finally:
        service.stop()


def test_health_turns_503_when_the_oldest_unacked_message_is_too_old(
        service_parts: tuple[Path, FailingStore]) -> None:
    tmp, store = service_parts
    store.down = True
    # A spool of one reading: the second batch can be made durable nowhere, so it waits.
    service = IngestService(config(tmp, max_unacked_age_s=0.2, spool_max_readings=1,
                                   batch_size=1), TinyDecoder(), store)
    reason = "oldest unacknowledged message older than 0.2 s"
    try:
        service._worker_thread.start()
        service.inbound.put("t/x", payload("a", 1), 1, 1, 1)
        service.inbound.put("t/x", payload("a", 2), 2, 1, 1)
        wait_for(lambda: reason in service.health()[1]["reasons"])
        assert service.metrics.registry.get_sample_value(
            "stadtpuls_ingest_oldest_unacked_age_seconds") >= 0.2
        store.down = False
        service.drainer.start()
        wait_for(lambda: reason not in service.health()[1]["reasons"])
    finally:
        service.stop()


# --- 8: nothing stranded, dead letters bounded, safe output ---------------------------------------


def letter(i: int, size: int = 10) -> NewDeadLetter:
    return NewDeadLetter(i, f"t/{i}", b"x" * size, "r")


def test_dead_letters_keep_count_and_byte_caps_purging_the_oldest(tmp_path: Path) -> None:
    purged: list[int] = []
    dead = DeadLetterStore(tmp_path / "d.db", max_letters=5, max_bytes=10_000,
                           on_purged=purged.append)
    try:
        dead.add_many([letter(i) for i in range(8)])
        assert [d.received_at_ns for d in dead.newest()] == [7, 6, 5, 4, 3]
        # 14 bytes each (payload, topic, reason); one of 9,966 puts 36 bytes over the cap
        dead.add_many([letter(100, size=9_960)])
        assert [d.received_at_ns for d in dead.newest()] == [100, 7, 6]
        assert sum(purged) == 3 + 3
    finally:
        dead.close()
    reopened = DeadLetterStore(tmp_path / "d.db", max_letters=1, max_bytes=10_000)
    try:
        reopened.add_many([letter(200)])
        assert [d.received_at_ns for d in reopened.newest()] == [200]
    finally:
        reopened.close()


def test_deadletter_list_escapes_control_characters(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from stadtpuls.cli import main

    dead = DeadLetterStore(tmp_path / "deadletter.db")
    evil = "\x1b]0;owned\x07\x1b[2J\u202e"
    dead.add_many([NewDeadLetter(T0, f"t/{evil}", f"p{evil}\x9b".encode(), f"r{evil}")])
    dead.close()
    for extra in ([], ["--json"], ["--summary"]):
        assert main(["deadletter", "list", "--data-dir", str(tmp_path), *extra]) == 0
        out = capsys.readouterr().out
        assert not any(not ch.isprintable() and ch not in "\n" for ch in out), repr(out)
    assert printable(evil) == "\\x1b]0;owned\\x07\\x1b[2J\\u202e"


def test_rejection_log_is_not_keyed_by_sender_text(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    from ingest.batching import BatchBuilder

    store = FailingStore(tmp_path / "store.db")
    spool = Spool(tmp_path / "spool.db")
    dead = DeadLetterStore(tmp_path / "deadletter.db")
    delivery = Delivery(store, spool, dead, IngestMetrics(), StoreHealth())
    builder = BatchBuilder(TinyDecoder(known={"a"}), batch_size=100, batch_ms=50)
    try:
        for i in range(30):  # thirty different reasons, all of one kind
            builder.add(msg(i + 1, payload(f"made-up-{i}", i)))
        batch = builder.take()
        assert batch is not None
        with caplog.at_level("WARNING", logger="stadtpuls.ingest"):
            assert delivery.deliver(batch) is not None
        assert len([r for r in caplog.records if "rejected message" in r.getMessage()]) == 1
        assert dead.count() == 30
    finally:
        spool.close()
        dead.close()
        store.close()


def test_spools_of_other_client_ids_are_taken_over_at_start(
        service_parts: tuple[Path, FailingStore]) -> None:
    tmp, store = service_parts
    (tmp / "data").mkdir()
    old = Spool(tmp / "data" / "spool-old-hostname.db")
    old.append(SpooledBatch([SourceMessage("t/x", b"m", T0)], [reading("from-old")], [0]))
    old.close()
    service = IngestService(config(tmp, client_id="stadtpuls-ingest"), TinyDecoder(), store)
    try:
        assert service.spool.depth == 1
        assert not (tmp / "data" / "spool-old-hostname.db").exists()
        service.drainer.start()
        wait_for(service.spool.is_empty)
        assert store.counts(0, MAX_NS, SITE) == {reading("from-old").key: 1}
    finally:
        service.stop()


def test_a_live_replicas_spool_is_left_alone(service_parts: tuple[Path, FailingStore]) -> None:
    tmp, store = service_parts
    live = Spool(tmp / "data" / "spool-replica-2.db")
    live.append(SpooledBatch([SourceMessage("t/x", b"m", T0)], [reading("live")], [0]))
    service = IngestService(config(tmp, client_id="replica-1"), TinyDecoder(), store)
    try:
        assert service.spool.depth == 0 and live.depth == 1
        with pytest.raises(SpoolError, match="in use"):
            Spool(tmp / "data" / "spool-replica-2.db")
    finally:
        service.stop()
        live.close()


def test_ingest_health_durable_flag_recovers_with_the_next_good_write() -> None:
    metrics = IngestMetrics()
    durable = DurableHealth()
    durable.failed("spool", OSError("full"), metrics)
    durable.failed("dead letters", OSError("full"), metrics)
    durable.ok("spool", metrics)
    assert not durable.all_ok
    durable.ok("dead letters", metrics)
    assert durable.all_ok and metrics.registry.get_sample_value("stadtpuls_ingest_durable_ok") == 1


def test_everything_acked_after_a_commit_is_fsynced_with_synchronous_full(
        tmp_path: Path) -> None:
    # synchronous is per connection: ask the very connections that write (2 = FULL).
    store = SQLiteStore(tmp_path / "s.db")
    spool = Spool(tmp_path / "spool.db")
    dead = DeadLetterStore(tmp_path / "d.db")
    try:
        for conn in (store._conn(), spool._db, dead._db):
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    finally:
        store.close()
        spool.close()
        dead.close()


def test_a_damaged_spool_row_is_set_aside_and_the_rest_drains(
        service_parts: tuple[Path, FailingStore]) -> None:
    tmp, store = service_parts
    (tmp / "data").mkdir()
    spool = Spool(tmp / "data" / "spool-x.db")
    spool.append(SpooledBatch([SourceMessage("t/x", b"m", T0)], [reading("first")], [0]))
    spool.append(SpooledBatch([SourceMessage("t/x", b"m", T0)], [reading("second")], [0]))
    spool._db.execute("UPDATE batches SET payload = x'00ff' WHERE id = 1")  # bit rot
    spool.close()
    service = IngestService(config(tmp, client_id="x"), TinyDecoder(), store)
    try:
        service.drainer.start()
        wait_for(service.spool.is_empty)
        assert store.counts(0, MAX_NS, SITE) == {reading("second").key: 1}
        assert service.drainer.restarts == 0
        assert service.spool._db.execute("SELECT COUNT(*) FROM damaged_batches"
                                         ).fetchone()[0] == 1
    finally:
        service.stop()
