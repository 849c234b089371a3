"""Lobby screens in a real browser, on data that took the real path.

`stadtpuls simulate` → the session's Mosquitto → `stadtpuls ingest` (a subprocess) → the
session's InfluxDB → the dashboard, served from this process → headless Chromium
(dash.testing's driver). The test catalogue is the Stühlinger city hall with every sensor
reporting every 2 s, so a stopped ingest shows as delayed within seconds, and a screen with
3-second scenes, one of which (bikes: the hall has no bike counter) has no data.

Run: .venv/bin/python -m pytest tests/test_kiosk_browser.py --webdriver Chrome --headless
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from typing import Any as DashComposite  # dash.testing is not annotated

import pytest
import yaml

from dashboard.app import create_app
from dashboard.data.source import DashboardSettings
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.store.influx import InfluxStore
from testkit.kiosk import Served, wait_until, with_screen
from testkit.servers import InfluxServer, MosquittoServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parents[1]
SCREEN = "test"
SCENES = [{"type": "pv_now", "seconds": 3}, {"type": "bikes", "seconds": 3},
          {"type": "indoor_air", "seconds": 3, "rooms": ["Bürgerservicezentrum"]},
          {"type": "clock", "seconds": 3}]
SHOWN = ["pv_now", "indoor_air", "clock"]
SETTINGS = DashboardSettings(refresh_s=2.0, live_bucket_s=1.0, kiosk_poll_s=1.0)


def _fast_catalogue() -> Catalogue:
    base = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    data = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["sites"] = {"stuehlinger": data["sites"]["stuehlinger"]}
    data["displays"] = {}
    data.pop("alerts", None)  # its rules name the other site; the screen needs none
    for sensor in data["sites"]["stuehlinger"]["sensors"]:
        sensor["interval_s"] = 2
    return with_screen(Catalogue.model_validate(data), SCREEN, "stuehlinger", SCENES)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "stadtpuls.cli", *args]


@dataclass
class Pipeline:
    catalogue: Catalogue
    store: InfluxStore
    ingest_command: list[str]
    tmp: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: list[str]) -> None:
        with (self.tmp / f"{name}.log").open("ab") as out:
            self.processes[name] = subprocess.Popen(command, cwd=ROOT, stdout=out,
                                                    stderr=subprocess.STDOUT)

    def stop(self, name: str) -> None:
        proc = self.processes.pop(name)
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def pipeline(chromium: str, mosquitto: MosquittoServer, influx: InfluxServer,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    tmp = tmp_path_factory.mktemp("kiosk-pipeline")
    catalogue = _fast_catalogue()
    path = tmp / "catalogue.yaml"
    path.write_text(yaml.safe_dump(catalogue.model_dump(mode="json", by_alias=True,
                                                        exclude_none=True),
                                   allow_unicode=True, sort_keys=False), encoding="utf-8")
    db = f"kiosk_{uuid.uuid4().hex[:12]}"
    influx.create_database(db)
    ingest = _cli("ingest", "--mqtt-url", mosquitto.url, "--store", "influx", "--influx-url",
                  influx.url, "--influx-bucket", f"{db}/autogen", "--catalogue", str(path),
                  "--client-id", f"kiosk-ingest-{uuid.uuid4().hex[:6]}", "--data-dir",
                  str(tmp / "data"), "--http-port", "0", "--log-level", "WARNING")
    # Reads go to influxd directly (see test_dashboard_browser.py for why not the adapter).
    result = Pipeline(catalogue, InfluxStore(influx.direct_url, f"{db}/autogen"), ingest, tmp)
    try:
        result.start("ingest", ingest)
        time.sleep(1.5)  # subscribed before the backfill starts
        result.start("simulate", _cli(
            "simulate", "--mqtt-url", mosquitto.url, "--catalogue", str(path),
            "--backfill", "10m", "--seed", "5",
            "--client-id", f"kiosk-sim-{uuid.uuid4().hex[:6]}"))
        wait_until(lambda: any(k.sensor == "room_buergerservice_co2" and
                               time.time() - r.time_ns / 1e9 < 5
                               for k, r in result.store.latest("stuehlinger").items()),
                   120, "live readings through the ingest", 0.5)
        yield result
    finally:
        for name in list(result.processes):
            result.stop(name)
        result.store.close()
        if influx.running:
            influx.drop_database(db)


def _open(dash_duo: DashComposite, url: str) -> Any:
    driver = dash_duo.driver
    driver.get(url)
    wait_until(lambda: driver.execute_script(
        "return document.getElementById('kiosk').dataset.scene"), 20, "a first scene")
    return driver


def _scene(driver: Any) -> str:
    return str(driver.execute_script("return document.getElementById('kiosk').dataset.scene"))


def _text(driver: Any, selector: str) -> str:
    # innerText, not selenium's .text: that is empty while a scene fades in (opacity 0)
    return str(driver.execute_script(
        "return document.querySelector(arguments[0]).innerText", selector))


def _real_errors(dash_duo: DashComposite) -> list[Any]:
    """Console errors, less the failed polls of a server we stopped on purpose."""
    return [entry for entry in dash_duo.get_logs() or []
            if "/kiosk/api/" not in entry.get("message", "")]


def test_kiosk_rotates_in_order_and_skips_the_empty_scene(dash_duo: DashComposite,
                                                          pipeline: Pipeline) -> None:
    served = Served(create_app(pipeline.store, pipeline.catalogue, SETTINGS).server)
    try:
        driver = _open(dash_duo, f"{served.url}/kiosk/{SCREEN}")
        seen: list[str] = []
        deadline = time.monotonic() + 40  # a cycle is 9 s
        while time.monotonic() < deadline and len(seen) < 8:
            scene = _scene(driver)
            if not seen or seen[-1] != scene:
                seen.append(scene)
            time.sleep(0.2)
        assert len(seen) == 8, seen  # two and a half cycles
        # each scene is followed by the next in catalogue order; bikes (no data) never shows
        for shown, following in itertools.pairwise(seen):
            assert following == SHOWN[(SHOWN.index(shown) + 1) % len(SHOWN)], seen
        assert driver.find_element("css selector", "html").get_attribute("lang") == "de"
        wait_until(lambda: _scene(driver) == "pv_now", 15, "PV power now")
        assert "Stand " in _text(driver, "#k-hero")
        assert driver.execute_script(
            "return document.getElementById('kiosk').dataset.maxInFlight") == "1"
        assert not driver.find_elements("css selector", "nav, button, input, a")
        assert _real_errors(dash_duo) == []
    finally:
        served.stop()


def _tiles_of(driver: Any, scene: str) -> str | None:
    """The visible tiles' text while `scene` shows (one script: no scene change between)."""
    found = driver.execute_script(
        "const k = document.getElementById('kiosk');"
        "return k.dataset.scene === arguments[0] ? "
        "  document.getElementById('k-tiles').innerText : null;", scene)
    return None if found is None else str(found)


def test_tiles_turn_delayed_when_the_ingest_stops_and_recover(dash_duo: DashComposite,
                                                              pipeline: Pipeline) -> None:
    served = Served(create_app(pipeline.store, pipeline.catalogue, SETTINGS).server)
    try:
        driver = _open(dash_duo, f"{served.url}/kiosk/{SCREEN}?lang=en")

        def indoor(state: str) -> str | None:
            text = _tiles_of(driver, "indoor_air")
            return text if text and state in text else None

        text = wait_until(lambda: indoor("as of "), 20, "indoor air, on time")
        assert "delayed" not in text
        pipeline.stop("ingest")
        text = wait_until(lambda: indoor("Data delayed · last value "), 30, "the delayed state")
        assert "as of" not in text, text
        pipeline.start("ingest", pipeline.ingest_command)
        text = wait_until(lambda: indoor("as of "), 60, "the tiles to be on time again")
        assert "delayed" not in text
        assert _real_errors(dash_duo) == []
    finally:
        served.stop()
        if "ingest" not in pipeline.processes:
            pipeline.start("ingest", pipeline.ingest_command)


def test_page_recovers_from_a_server_restart_without_reloading_and_reports_in(
        dash_duo: DashComposite, pipeline: Pipeline) -> None:
    served = Served(create_app(pipeline.store, pipeline.catalogue, SETTINGS).server)
    port = served.port
    try:
        driver = _open(dash_duo, f"{served.url}/kiosk/{SCREEN}")
        driver.execute_script("window.__sameDocument = 'yes';")
        served.stop()
        wait_until(lambda: driver.find_element("css selector", "#k-offline").is_displayed(),
                   30, "the reconnecting overlay")
        overlay = _text(driver, "#k-offline")
        assert "Verbindung wird wiederhergestellt" in overlay
        assert _text(driver, "#k-title").strip()  # the last scene stays
        served = Served(create_app(pipeline.store, pipeline.catalogue, SETTINGS).server, port)
        wait_until(lambda: not driver.find_element("css selector", "#k-offline").is_displayed(),
                   60, "the overlay to go once the server is back")
        scene = _scene(driver)
        assert driver.execute_script("return window.__sameDocument") == "yes"  # no reload
        assert driver.execute_script(
            "return document.getElementById('kiosk').dataset.maxInFlight") == "1"
        # A new version (here: the screen's definition changed) reloads the page by itself.
        old_version = driver.execute_script(
            "return document.getElementById('kiosk').dataset.version")
        changed = with_screen(pipeline.catalogue, SCREEN, "stuehlinger",
                              [{**SCENES[0], "seconds": 4}, *SCENES[1:]])
        served.stop()
        served = Served(create_app(pipeline.store, changed, SETTINGS).server, port)
        wait_until(lambda: driver.execute_script(
            "return window.__sameDocument === undefined && "
            "document.getElementById('kiosk').dataset.scene"), 30, "the page to reload")
        assert driver.execute_script(
            "return document.getElementById('kiosk').dataset.version") != old_version
        # The screen's heartbeat on the pipeline page of the new server; the first poll of a
        # page has no scene to report yet, the second has.
        wait_until(lambda: int(driver.execute_script(
            "return document.getElementById('kiosk').dataset.polls") or 0) >= 3, 20,
            "polls after the reload")
        driver.get(f"{served.url}/status?lang=en")
        # one script per look: Dash redraws the table every refresh
        row = wait_until(lambda: driver.execute_script(
            "const row = document.getElementById(arguments[0]);"
            "return row && row.innerText.includes('OK') ? row.innerText : null;",
            f"screen-{SCREEN}"), 30, "the screen's row on the pipeline page")
        assert "0.1.0+" in row and any(s in row for s in SHOWN), (row, scene)
        assert "≠" not in row  # it runs the server's version
    finally:
        served.stop()
