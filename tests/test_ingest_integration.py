"""The ingest's delivery promises, end to end against the real Mosquitto and InfluxDB.

Every test runs `stadtpuls ingest` as a subprocess (as in production) and publishes with paho
at QoS 1 with a bounded window of unacked publishes. Every reading has a unique source
timestamp, so "exactly N stored" (counted with `Store.counts`) means none lost and none
doubled. InfluxDB is Debian's 1.6.7 behind the test harness's v2-write route adapter (see
tests/conftest.py); everything else is the real server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ingest_procs import (
    ROOT,
    SENSORS,
    Ingest,
    Publisher,
    kill_leftovers,
    readings,
    stored,
    wait_for,
)

from ingest.deadletter import DeadLetterStore
from stadtpuls.store.influx import InfluxStore
from testkit.disk import DiskUnavailable, fill, small_disk
from testkit.loadgen import site_yaml, write_catalogue
from testkit.servers import InfluxServer, MosquittoServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _no_orphans() -> Iterator[None]:
    yield
    kill_leftovers()


@pytest.fixture
def site() -> str:
    return f"it{uuid.uuid4().hex[:10]}"


@pytest.fixture
def catalogue(tmp_path: Path, site: str) -> Path:
    return write_catalogue(tmp_path / "catalogue.yaml", {site: site_yaml(site, SENSORS)})


@pytest.fixture
def influx_store(influx: InfluxServer, influx_db: str) -> Iterator[InfluxStore]:
    store = InfluxStore(influx.url, f"{influx_db}/autogen", timeout_s=30)
    yield store
    store.close()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs for the ingest's data directory (spool and dead letters)."""
    try:
        with small_disk(tmp_path / "disk", 4096) as path:
            yield path
    except DiskUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc}; CI runs as root and must be able to mount a tmpfs",
                        pytrace=False)
        pytest.skip(str(exc))


# --- the "done when" scenarios ---------------------------------------------------------------


def test_influx_outage_of_30_s_loses_and_doubles_nothing(
    tmp_path: Path, mosquitto: MosquittoServer, make_influx: Callable[[], InfluxServer],
    catalogue: Path, site: str,
) -> None:
    influx = make_influx()
    influx.create_database("outage")
    store = InfluxStore(influx.url, "outage/autogen", timeout_s=30)
    ingest = Ingest(tmp_path, mosquitto.url, influx.url, "outage/autogen", catalogue,
                    f"stadtpuls/{site}/#", "ingest-outage")
    n = 20_000
    pub = Publisher(mosquitto, readings(site, n), rate=1_000)
    pub.start()
    wait_for(lambda: stored(store, site) >= 3_000, 60, "the first readings")
    influx.stop()
    outage_started = time.monotonic()
    wait_for(lambda: ingest.health().get("store") == "unavailable", 30, "store unavailable")
    wait_for(lambda: time.monotonic() - outage_started >= 30, 40, "30 s of outage")
    spooled = ingest.metric("stadtpuls_ingest_spool_depth")
    assert spooled > 0, "the outage must have sent readings to the spool"
    influx.start()
    pub.finish()
    wait_for(lambda: stored(store, site) >= n, 120, f"{n} readings stored")
    assert stored(store, site) == n
    per_sensor = store.counts(0, 2**62, site)
    assert sorted(per_sensor.values()) == [n // SENSORS] * SENSORS
    wait_for(lambda: ingest.metric("stadtpuls_ingest_spool_depth") == 0, 30, "spool drained")
    assert ingest.metric("stadtpuls_ingest_readings_spooled_total") >= spooled
    assert ingest.terminate() == 0
    assert "Traceback" not in ingest.log()
    store.close()


def test_sigkill_mid_stream_then_restart_loses_nothing(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, influx_db: str,
    influx_store: InfluxStore, catalogue: Path, site: str,
) -> None:
    ingest = Ingest(tmp_path, mosquitto.url, influx.url, f"{influx_db}/autogen", catalogue,
                    f"stadtpuls/{site}/#", "ingest-kill")
    n = 20_000
    pub = Publisher(mosquitto, readings(site, n), rate=4_000)
    pub.start()
    wait_for(lambda: stored(influx_store, site) >= 4_000, 60, "the first readings")
    ingest.kill()
    killed_at = stored(influx_store, site)
    ingest.start()  # same client id and data dir: the broker kept the session
    pub.finish()
    wait_for(lambda: stored(influx_store, site) >= n, 120, f"{n} readings stored")
    assert stored(influx_store, site) == n
    assert killed_at < n, "the kill must have happened mid-stream"
    assert ingest.terminate() == 0


def test_mosquitto_restart_mid_stream_loses_nothing(
    tmp_path: Path, make_mosquitto: Callable[[], MosquittoServer], influx: InfluxServer,
    influx_db: str, influx_store: InfluxStore, catalogue: Path, site: str,
) -> None:
    broker = make_mosquitto()
    ingest = Ingest(tmp_path, broker.url, influx.url, f"{influx_db}/autogen", catalogue,
                    f"stadtpuls/{site}/#", "ingest-broker-restart")
    n = 20_000
    pub = Publisher(broker, readings(site, n), rate=4_000)
    pub.start()
    wait_for(lambda: stored(influx_store, site) >= 4_000, 60, "the first readings")
    broker.restart()
    assert stored(influx_store, site) < n, "the restart must have happened mid-stream"
    pub.finish()
    wait_for(lambda: stored(influx_store, site) >= n, 120, f"{n} readings stored")
    assert stored(influx_store, site) == n
    assert "lost connection to" in ingest.log()
    assert ingest.terminate() == 0


def test_two_replicas_in_a_share_group_split_the_load(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, influx_db: str,
    influx_store: InfluxStore, catalogue: Path, site: str,
) -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    replicas = [Ingest(tmp_path, mosquitto.url, influx.url, f"{influx_db}/autogen", catalogue,
                       f"stadtpuls/{site}/#", f"ingest-share-{k}", "--share-group", group)
                for k in range(2)]
    n = 20_000
    pub = Publisher(mosquitto, readings(site, n))
    pub.start()
    pub.finish()
    wait_for(lambda: stored(influx_store, site) >= n, 120, f"{n} readings stored")
    assert stored(influx_store, site) == n
    accepted = [r.metric("stadtpuls_ingest_messages_total", '{outcome="accepted"}')
                for r in replicas]
    assert all(a > 0 for a in accepted), f"both replicas must work: {accepted}"
    assert sum(accepted) >= n
    assert [r.terminate() for r in replicas] == [0, 0]


MALFORMED: list[tuple[str, bytes]] = [
    ("s0", b"not json at all"),
    ("s1", b'{"value": "twelve"}'),
    ("s2", b'{"vaule": 1}'),
    ("s3", b"\xff\xfe\x00binary"),
    ("s4", b""),
    ("s5", b'{"value": NaN}'),
    ("s6", b"[1, 2, 3]"),
    ("s7", b'{"value": 1e999}'),
    ("s8", b'{"value": 1, "ts": "yesterday"}'),
    ("s9", b"{" * 5_000),
]


def test_malformed_payloads_are_dead_lettered_valid_ones_stored_memory_bounded(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, influx_db: str,
    influx_store: InfluxStore, catalogue: Path, site: str,
) -> None:
    ingest = Ingest(tmp_path, mosquitto.url, influx.url, f"{influx_db}/autogen", catalogue,
                    f"stadtpuls/{site}/#", "ingest-malformed")
    bad = 10_000
    valid = 10_000
    messages: list[tuple[str, bytes]] = []
    good = iter(readings(site, valid))
    for i in range(bad):
        sensor, payload = MALFORMED[i % len(MALFORMED)]
        messages.append((f"stadtpuls/{site}/{sensor}", payload))
        messages.append(next(good))
    rss_start = ingest.rss_kb()
    pub = Publisher(mosquitto, messages)
    pub.start()
    rss_max = rss_start
    while pub.is_alive() or stored(influx_store, site) < valid:
        rss_max = max(rss_max, ingest.rss_kb())
        assert ingest.proc is not None and ingest.proc.poll() is None, "ingest stopped"
        time.sleep(0.1)
        if pub.error:
            break
    pub.finish()
    wait_for(lambda: stored(influx_store, site) >= valid, 60, f"{valid} valid readings")
    assert stored(influx_store, site) == valid
    wait_for(lambda: ingest.metric("stadtpuls_ingest_messages_total", '{outcome="rejected"}')
             >= bad, 30, "every malformed message counted")
    assert rss_max < 2.5 * rss_start, f"RSS grew from {rss_start} kB to {rss_max} kB"
    dead = DeadLetterStore(tmp_path / "data" / "deadletter.db")
    try:
        assert dead.count() == bad
        reasons = dead.reasons()
        assert all(reason.strip() for reason in reasons), "every dead letter has a reason"
        assert len(reasons) >= 5, f"distinct causes expected: {reasons}"
        letter = dead.newest(1, topic_prefix=f"stadtpuls/{site}/")[0]
        assert letter.payload in {p for _, p in MALFORMED}
    finally:
        dead.close()
    # rejections are logged rate-limited, not one line each
    assert ingest.log().count("rejected message on") < 200
    assert ingest.terminate() == 0


def test_deadletter_cli_lists_and_replays_after_the_catalogue_is_fixed(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, influx_db: str,
    influx_store: InfluxStore, site: str,
) -> None:
    # the catalogue knows s0 as power; s1 is published as a bare number without a quantity
    narrow = write_catalogue(tmp_path / "narrow.yaml", {site: site_yaml(site, 1)})
    ingest = Ingest(tmp_path, mosquitto.url, influx.url, f"{influx_db}/autogen", narrow,
                    f"stadtpuls/{site}/#", "ingest-replay")
    pub = Publisher(mosquitto, readings(site, 20))
    pub.start()
    pub.finish()
    wait_for(lambda: ingest.metric("stadtpuls_ingest_messages_total",
                                   '{outcome="rejected"}') >= 18, 30, "rejections")
    assert ingest.terminate() == 0
    env = {**os.environ, "STADTPULS_DATA_DIR": str(tmp_path / "data")}
    listed = subprocess.run([sys.executable, "-m", "stadtpuls.cli", "deadletter", "list",
                             "--json", "--limit", "100"], capture_output=True, text=True,
                            env=env, cwd=ROOT, check=True)
    letters = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(letters) == 18 and all(d["reason"] for d in letters)
    full = write_catalogue(tmp_path / "full.yaml", {site: site_yaml(site, SENSORS)})
    replay = subprocess.run([sys.executable, "-m", "stadtpuls.cli", "deadletter", "replay",
                             "--catalogue", str(full), "--influx-url", influx.url,
                             "--influx-bucket", f"{influx_db}/autogen"],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert replay.returncode == 0, replay.stderr
    assert "replayed 18 messages" in replay.stdout
    assert stored(influx_store, site) == 20


def test_full_spool_stops_acking_instead_of_dropping(
    tmp_path: Path, mosquitto: MosquittoServer, make_influx: Callable[[], InfluxServer],
    catalogue: Path, site: str,
) -> None:
    influx = make_influx()
    influx.create_database("full")
    store = InfluxStore(influx.url, "full/autogen", timeout_s=30)
    influx.stop()
    ingest = Ingest(tmp_path, mosquitto.url, influx.url, "full/autogen", catalogue,
                    f"stadtpuls/{site}/#", "ingest-full", "--spool-max-readings", "1000",
                    "--max-pending-messages", "300", "--batch-size", "200")
    n = 5_000
    pub = Publisher(mosquitto, readings(site, n))
    pub.start()
    pub.finish()  # the broker took them all: it holds what the ingest does not ack
    wait_for(lambda: ingest.health().get("spool_full") is True, 60, "a full spool")
    assert ingest.health()["status"] == "unavailable"
    wait_for(lambda: ingest.metric("stadtpuls_ingest_overflows_total") >= 1, 60,
             "the queue bound to leave messages at the broker")
    rss_held = ingest.rss_kb()
    assert ingest.metric("stadtpuls_ingest_messages_total", '{outcome="accepted"}') < n
    influx.start()
    wait_for(lambda: stored(store, site) >= n, 120, f"{n} readings stored")
    assert stored(store, site) == n
    wait_for(lambda: ingest.health().get("status") == "ok", 30, "healthy again")
    assert "redelivered" in ingest.log()
    assert rss_held > 0
    assert ingest.terminate() == 0
    store.close()


# --- issue 9: a full disk, a changed client id -------------------------------------------


def test_full_disk_turns_health_503_acks_nothing_undurable_and_recovers(
    tmp_path: Path, disk: Path, mosquitto: MosquittoServer,
    make_influx: Callable[[], InfluxServer], catalogue: Path, site: str,
) -> None:
    influx = make_influx()
    influx.create_database("disk")
    store = InfluxStore(influx.url, "disk/autogen", timeout_s=30)
    influx.stop()  # the store is down: every reading has to go through the spool
    ingest = Ingest(tmp_path, mosquitto.url, influx.url, "disk/autogen", catalogue,
                    f"stadtpuls/{site}/#", "ingest-disk", "--data-dir", str(disk),
                    "--batch-size", "100")
    filler = fill(disk)
    n = 3_000
    pub = Publisher(mosquitto, readings(site, n))
    pub.start()
    pub.finish()  # the broker holds what the ingest does not ack
    reason = "cannot write the spool or dead letters (disk full or read-only)"
    wait_for(lambda: reason in ingest.health().get("reasons", []), 60, "503 for a full disk")
    health = ingest.health()
    assert health["status"] == "unavailable" and health["durable"] == "failing"
    assert ingest.metric("stadtpuls_ingest_durable_ok") == 0
    assert ingest.metric("stadtpuls_ingest_messages_total", '{outcome="accepted"}') < n
    # Killed while the disk is full: whatever it acked must be on disk, the rest at the broker.
    ingest.kill()
    filler.unlink()
    influx.start()
    ingest.start()
    wait_for(lambda: stored(store, site) >= n, 120, f"{n} readings stored")
    assert stored(store, site) == n
    wait_for(lambda: ingest.health().get("status") == "ok", 30, "healthy again")
    assert ingest.metric("stadtpuls_ingest_durable_ok") == 1
    assert ingest.terminate() == 0
    store.close()


def test_ingest_under_another_client_id_drains_the_old_spool(
    tmp_path: Path, mosquitto: MosquittoServer, make_influx: Callable[[], InfluxServer],
    catalogue: Path, site: str,
) -> None:
    influx = make_influx()
    influx.create_database("moved")
    store = InfluxStore(influx.url, "moved/autogen", timeout_s=30)
    influx.stop()
    first = Ingest(tmp_path, mosquitto.url, influx.url, "moved/autogen", catalogue,
                   f"stadtpuls/{site}/#", "ingest-old-hostname")
    n = 500
    pub = Publisher(mosquitto, readings(site, n))
    pub.start()
    pub.finish()
    wait_for(lambda: first.metric("stadtpuls_ingest_spool_depth") >= n, 60, "all spooled")
    assert first.terminate() == 0
    assert (tmp_path / "data" / "spool-ingest-old-hostname.db").exists()
    influx.start()
    second = Ingest(tmp_path, mosquitto.url, influx.url, "moved/autogen", catalogue,
                    f"stadtpuls/{site}/#", "stadtpuls-ingest")
    wait_for(lambda: stored(store, site) >= n, 60, f"{n} readings stored")
    assert stored(store, site) == n
    assert not (tmp_path / "data" / "spool-ingest-old-hostname.db").exists()
    assert "took over spool spool-ingest-old-hostname.db" in second.log()
    assert second.terminate() == 0
    store.close()
