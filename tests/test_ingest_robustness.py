"""Issue 9, end to end against the real Mosquitto and InfluxDB: a full disk turns /healthz
503 and acks nothing that is not durable; an ingest under a new client id drains the spool an
earlier client id left behind. Helpers in tests/ingest_procs.py."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ingest_procs import SENSORS, Ingest, Publisher, kill_leftovers, readings, stored, wait_for

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
    return f"rb{uuid.uuid4().hex[:10]}"


@pytest.fixture
def catalogue(tmp_path: Path, site: str) -> Path:
    return write_catalogue(tmp_path / "catalogue.yaml", {site: site_yaml(site, SENSORS)})


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
