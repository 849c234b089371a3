"""The real pipeline behind the dashboard's browser tests: simulator → Mosquitto → ingest →
InfluxDB, started as subprocesses on the session's servers (tests/test_dashboard_browser.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import waiting
import yaml
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

from dashboard.data.source import DashboardSettings
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.health import silent_after_s
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store.influx import InfluxStore
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer, MosquittoServer

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "config" / "stuehlinger.yaml"
SILENCED = "weather_wind_speed"
# The catalogue says 60 s; the tests' copy says 30 s, so watching it fall silent (1.6
# intervals) and waiting until every page calls it silent take seconds, not minutes.
SILENCED_INTERVAL_S = 30
# After the pipeline starts: the first test watches it go silent. Catching up takes 10-30 s;
# the sensor still reads OK for 1.6 intervals after this, so a slow start costs nothing.
SILENCE_AFTER_S = 40.0
HOSTILE = "x' OR 1=1 --/<b>~ü"
UNREGISTERED = "lora-test-7f3a"
# Refresh every 5 s: a page "settles" only between two refreshes, and on a loaded machine a
# sensor page's refresh on InfluxDB can take most of 2 s, so it would never look settled.
SETTINGS = DashboardSettings(refresh_s=5.0, live_bucket_s=1.0)


@dataclass
class Pipeline:
    store: InfluxStore
    catalogue: Catalogue
    client_id: str
    silence_at: float
    """Wall-clock time from which the simulator withholds SILENCED's readings."""
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def check_alive(self) -> None:
        for proc, log in zip(self.processes, self.logs, strict=True):
            if proc.poll() is not None:
                raise AssertionError(f"{proc.args!r} exited with {proc.returncode}:\n"
                                     f"{log.read_text()[-3000:]}")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "stadtpuls.cli", *args]


def wait(condition: Callable[[], Any], timeout: float, what: str, step: float = 0.5) -> Any:
    return waiting.wait(condition, timeout, what, step)


def running_pipeline(mosquitto: MosquittoServer, influx: InfluxServer,
                     tmp: Path) -> Iterator[Pipeline]:
    """Simulator and ingest as subprocesses feeding a fresh database; yields once caught up."""
    db = f"dash_{uuid.uuid4().hex[:12]}"
    influx.create_database(db)
    client_id = f"dash-ingest-{uuid.uuid4().hex[:6]}"
    silence_at = time.time() + SILENCE_AFTER_S
    silence_iso = datetime.fromtimestamp(silence_at, tz=UTC).isoformat()
    # Every CO2 reading of the last half hour is implausible, so the latest one is whenever
    # the tests look (starting the fault "now" left up to one 5-minute interval without one).
    implausible_iso = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    catalogue = catalogue_copy(tmp)
    store_args = ["--store", "influx", "--influx-url", influx.url, "--influx-bucket",
                  f"{db}/autogen", "--catalogue", str(catalogue)]
    commands = {
        "ingest": cli("ingest", "--mqtt-url", mosquitto.url, *store_args,
                       "--client-id", client_id, "--data-dir", str(tmp / "data"),
                       "--http-port", "0", "--stats-interval", "2", "--log-level", "WARNING"),
        "simulate": cli("simulate", "--mqtt-url", mosquitto.url, "--catalogue", str(catalogue),
                         "--backfill", "26h", "--seed", "11",
                         "--client-id", f"dash-sim-{uuid.uuid4().hex[:6]}",
                         "--faults", f"silent:{SILENCED}@{silence_iso},"
                                     f"implausible:room_sitzungssaal_co2~1@{implausible_iso}"),
    }
    processes, logs = [], []
    for name, command in commands.items():
        log = tmp / f"{name}.log"
        with log.open("wb") as out:
            processes.append(subprocess.Popen(command, cwd=ROOT, stdout=out,
                                              stderr=subprocess.STDOUT))
        logs.append(log)
        if name == "ingest":
            time.sleep(1.5)  # subscribed before the backfill starts
    # The dashboard only reads, which influxd serves itself: it talks to influxd directly, not
    # through the v2-write adapter. dash.testing ends each test by killing every thread
    # started during it, the adapter's handlers for our pooled connections included, and
    # the next test would find those connections dead.
    store = InfluxStore(influx.direct_url, f"{db}/autogen")
    result = Pipeline(store, load_catalogue(catalogue), client_id, silence_at, processes, logs)

    def caught_up() -> bool:
        result.check_alive()
        latest = store.latest()
        newest = max((r.time_ns for k, r in latest.items() if k.site == "stuehlinger"),
                     default=0)
        stats = any(k.sensor.startswith(client_id) for k in latest)
        return stats and time.time() - newest / 1e9 < 90

    try:
        wait(caught_up, 150, "the simulator's backfill to arrive through the ingest", 1.0)
        publish_unregistered(mosquitto)
        # A sensor no catalogue knows, with an id built to break URLs, HTML and queries.
        writer = InfluxStore(influx.url, f"{db}/autogen")
        writer.write([Reading("freiburg", HOSTILE, Quantity.TEMPERATURE,
                              time.time_ns() - 20 * 10**9, 17.5, unregistered=True)])
        writer.close()
        yield result
    finally:
        for proc in reversed(processes):
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        store.close()
        if influx.running:
            influx.drop_database(db)


def catalogue_copy(tmp: Path) -> Path:
    """Freiburg's catalogue with SILENCED reporting every SILENCED_INTERVAL_S."""
    data = yaml.safe_load(CATALOGUE.read_text())
    sensor = next(s for s in data["sites"]["stuehlinger"]["sensors"] if s["id"] == SILENCED)
    sensor["interval_s"] = SILENCED_INTERVAL_S
    path = tmp / "stuehlinger.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def wait_until_silenced(pipeline: Pipeline) -> Pipeline:
    """The pipeline once SILENCED has been quiet long enough for every page to say so."""
    key = SeriesKey("stuehlinger", SILENCED, Quantity.WIND_SPEED)
    quiet_s = silent_after_s(SILENCED_INTERVAL_S) + 5
    wait(lambda: time.time() - pipeline.store.latest("stuehlinger")[key].time_ns / 1e9 > quiet_s,
          SILENCE_AFTER_S + 200, f"the silenced sensor to be quiet for {quiet_s:.0f} s", 1.0)
    return pipeline


def publish_unregistered(mosquitto: MosquittoServer) -> None:
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"dash-test-{uuid.uuid4().hex[:6]}")
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    info = client.publish(f"stadtpuls/freiburg/{UNREGISTERED}",
                          json.dumps({"quantity": "temperature", "value": 18.4}), qos=1)
    info.wait_for_publish(10)
    client.loop_stop()
    client.disconnect()
