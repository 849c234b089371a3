"""The dashboard in a real browser, on data that took the real path.

Simulator (`stadtpuls simulate`, 26 h of backfill, then live) → the session's Mosquitto →
`stadtpuls ingest` (a subprocess) → the session's InfluxDB → the dashboard in this process →
headless Chromium (dash.testing). Every page is loaded in German and English and checked for
its visible content and a clean browser console.

Run: .venv/bin/python -m pytest tests/test_dashboard_browser.py --webdriver Chrome --headless
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any as DashComposite  # dash.testing is not annotated

import pytest
from dashboard_pipeline import (
    HOSTILE,
    SETTINGS,
    SILENCE_AFTER_S,
    SILENCED,
    SILENCED_INTERVAL_S,
    UNREGISTERED,
    Pipeline,
    running_pipeline,
    wait,
    wait_until_silenced,
)
from selenium.webdriver.common.by import By

from dashboard.app import create_app
from dashboard.ui import sensor_token
from stadtpuls.reading import SeriesKey
from stadtpuls.store.influx import InfluxStore
from stadtpuls.timebase import to_ns
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer, MosquittoServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    # dash.testing's ThreadedRunner stops its server by raising SystemExit in the threads that
    # still hold a keep-alive connection from the browser: its noise, not ours.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    # selenium 4.2 (pinned by dash[testing]) calls a urllib3 method urllib3 deprecates
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
    # pvlib 0.16 asks pandas 3 for a deprecated attribute inside get_solarposition
    pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated"),
]




@pytest.fixture(scope="module")
def pipeline(chromium: str, mosquitto: MosquittoServer, influx: InfluxServer,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    yield from running_pipeline(mosquitto, influx, tmp_path_factory.mktemp("dashboard-pipeline"))


@pytest.fixture
def silenced(pipeline: Pipeline) -> Pipeline:
    return wait_until_silenced(pipeline)


def _start(dash_duo: DashComposite, pipeline: Pipeline, path: str = "/",
           lang: str = "de") -> None:
    pipeline.check_alive()
    app = create_app(pipeline.store, pipeline.catalogue, SETTINGS)
    dash_duo.start_server(app)
    dash_duo.driver.set_window_size(1920, 1080)
    _go(dash_duo, f"{path}?lang={lang}" if "?" not in path else f"{path}&lang={lang}")
    wait(lambda: dash_duo.find_element("html").get_attribute("lang") == lang, 15,
          f"the page to switch to {lang}")


def _go(dash_duo: DashComposite, path: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + path)
    _settled(dash_duo)


_SETTLED_JS = """
const graphs = document.querySelectorAll('.dash-graph').length;
const drawn = document.querySelectorAll('.dash-graph .js-plotly-plot .main-svg').length;
const loading = document.querySelectorAll('[data-dash-is-loading="true"]').length;
const content = document.querySelectorAll('#_pages_content > *').length;
return content > 0 && loading === 0 && drawn >= graphs;
"""


def _settled(dash_duo: DashComposite, timeout: float = 60) -> None:
    wait(lambda: dash_duo.driver.execute_script(_SETTLED_JS), timeout, "the page to render")


def _text(dash_duo: DashComposite) -> str:
    return str(dash_duo.find_element("#_pages_content").text)


def _has(dash_duo: DashComposite, *needles: str, timeout: float = 20) -> None:
    def found() -> bool:
        text = _text(dash_duo)
        return all(n in text for n in needles)

    try:
        wait(found, timeout, f"{needles!r} on the page")
    except AssertionError:
        raise AssertionError(f"missing {needles!r} in:\n{_text(dash_duo)[:3000]}") from None


def _grid_row(dash_duo: DashComposite, name: str) -> str:
    # Read in one go: the grid re-renders rows as pages arrive (a row element read one by
    # one can be gone by the time its text is asked for).
    rows: list[str] = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.sensor-grid .ag-row')].map(r => r.innerText);")
    return next((r for r in rows if name in r), "")


# --- the silenced sensor (first: it watches the transition) -------------------------------


def test_silenced_sensor_shows_silent_within_twice_its_interval(
        dash_duo: DashComposite, pipeline: Pipeline) -> None:
    interval = SILENCED_INTERVAL_S
    _start(dash_duo, pipeline, "/sensors")
    name = "Windgeschwindigkeit"
    wait(lambda: "OK" in _grid_row(dash_duo, name), 30, "the wind sensor to show OK")
    flipped = wait(lambda: "stumm" in _grid_row(dash_duo, name) and time.time(),
                    SILENCE_AFTER_S + 3 * interval, "the wind sensor to turn silent")
    key = SeriesKey("stuehlinger", SILENCED, Quantity.WIND_SPEED)
    last = pipeline.store.latest("stuehlinger")[key]
    assert last.time_ns / 1e9 <= pipeline.silence_at
    assert flipped - last.time_ns / 1e9 <= 2 * interval, (flipped, last)
    assert dash_duo.get_logs() == []


# --- every page, both languages ------------------------------------------------------------


PAGES: dict[str, dict[str, list[str]]] = {
    "/": {"de": ["Rathaus im Stühlinger", "Freiburg Straßensensoren", "PV-Leistung jetzt",
                 "Radfahrten heute", "Letzte 24 Stunden", "OK", "stumm", "unplausibel"],
          "en": ["Stühlinger City Hall", "Freiburg street sensors", "PV power now",
                 "Bike trips today", "Last 24 hours", "OK", "silent", "implausible"]},
    "/energy": {"de": ["PV-Leistung jetzt", "Heute", "Gestern", "Dieser Monat", "Dieses Jahr",
                       "Autarkiegrad", "Soll/Ist", "Fassade Südost", "kWh/kWp", "Umweltbundesamt"],
                "en": ["PV power now", "Today", "Yesterday", "This month", "This year",
                       "Self-sufficiency", "Expected vs actual", "Façade south-east",
                       "kWh/kWp", "German Environment Agency"]},
    "/sensors": {"de": ["Globalstrahlung", "PV-Leistung Dach Süd A", "Lärm Bertoldsbrunnen",
                        "Zuletzt gesehen", "Vollständigkeit 24 h", "stumm", "nicht registriert",
                        UNREGISTERED, HOSTILE],
                 "en": ["Global irradiance", "PV power roof south A", "Noise Bertoldsbrunnen",
                        "Last seen", "Completeness 24 h", "silent", "unregistered",
                        UNREGISTERED, HOSTILE]},
    "/sensors/stuehlinger~weather_air_temperature": {
        "de": ["Lufttemperatur", "Wetterstation Dach", "24 Std.", "Punkte", "Minimum"],
        "en": ["Air temperature", "Wetterstation Dach", "24 h", "points", "Minimum"]},
    "/map": {"de": ["Karte", "Ohne Kartenhintergrund"], "en": ["Map", "No map background"]},
    "/status": {"de": ["Nachrichten/s", "Messwerte/s", "Zwischenspeicher", "MQTT-Broker",
                       "verbunden", "meldet sich"],
                "en": ["Messages/s", "Readings/s", "Spool depth", "MQTT broker", "connected",
                       "reporting"]},
    "/reports": {"de": ["Energiebericht", "Druckansicht / PDF", "CSV herunterladen",
                        "Tage mit Zählerdaten", "Datenvollständigkeit", "Umweltbundesamt"],
                 "en": ["Energy report", "Print view / PDF", "Download CSV",
                        "Days with meter data", "Data completeness",
                        "German Environment Agency"]},
}
GRAPHS = {"/": 2, "/energy": 3, "/sensors/stuehlinger~weather_air_temperature": 1, "/map": 1,
          "/status": 1}
NAV = {"de": ["Übersicht", "Energie", "Sensoren", "Karte", "Pipeline", "Berichte"],
       "en": ["Overview", "Energy", "Sensors", "Map", "Pipeline", "Reports"]}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_page_shows_its_content(dash_duo: DashComposite, silenced: Pipeline,
                                      lang: str) -> None:
    _start(dash_duo, silenced, "/", lang)
    nav = dash_duo.find_element("#nav").text
    assert all(label in nav for label in NAV[lang]), nav
    for path, texts in PAGES.items():
        _go(dash_duo, path)
        _has(dash_duo, *texts[lang])
        drawn = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-graph .js-plotly-plot")
        assert len(drawn) >= GRAPHS.get(path, 0), path
        page = _text(dash_duo)
        # unformatted numbers such as 0.30000000000000004 or raw catalogue ids
        assert "0000000" not in page
        assert "pv_facade" not in page and "stuehlinger~" not in page
        if path == "/sensors":
            wait(lambda: len(dash_duo.driver.find_elements(
                By.CSS_SELECTOR, ".sensor-grid .ag-row")) >= 42, 20, "all sensor rows")
    assert dash_duo.get_logs() == []


def test_pipeline_page_reports_the_real_ingest(dash_duo: DashComposite,
                                               pipeline: Pipeline) -> None:
    _start(dash_duo, pipeline, "/status", "en")
    _has(dash_duo, "Ingest 1", "reporting", "connected")
    assert pipeline.client_id not in dash_duo.driver.page_source


    def first_rate() -> str | None:
        # Read in one script: the refresh may replace the element between find and read.
        text = dash_duo.driver.execute_script(
            "const e = document.querySelector('.kpi-value'); return e ? e.textContent : null")
        return text if text and text.strip() not in ("", "–") else None

    # A rate needs one full minute of the ingest's figures: when this test runs first, wait
    # for it (the page refreshes itself every 10 s).
    wait(first_rate, 150, "the ingest's message rate on the pipeline page")
    assert dash_duo.get_logs() == []


# --- interaction ---------------------------------------------------------------------------


def test_language_switch_is_remembered(dash_duo: DashComposite, pipeline: Pipeline) -> None:
    _start(dash_duo, pipeline, "/energy", "de")
    _has(dash_duo, "PV-Leistung jetzt")
    dash_duo.find_element("#lang-en").click()
    _has(dash_duo, "PV power now", "This month")
    assert "Energy" in dash_duo.find_element("#nav").text
    dash_duo.driver.get(dash_duo.server_url + "/sensors")  # a new page load, no ?lang
    _settled(dash_duo)
    _has(dash_duo, "Last seen")
    assert dash_duo.find_element("html").get_attribute("lang") == "en"
    assert dash_duo.get_logs() == []


def test_sensor_detail_ranges_and_csv(dash_duo: DashComposite, pipeline: Pipeline) -> None:
    path = "/sensors/" + sensor_token("stuehlinger", "pv_roof_south_a_power")
    _start(dash_duo, pipeline, path, "de")
    _has(dash_duo, "PV-Leistung Dach Süd A", "Punkte")
    buttons = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#detail-ranges button")
    next(button for button in buttons if button.text == "7 Tage").click()
    _has(dash_duo, "15 Minuten")
    dash_duo.find_element("#detail-download-button").click()
    download = Path(dash_duo.download_path)
    csv = wait(lambda: next(iter(download.glob("*.csv")), None), 20, "the CSV download")
    lines = csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "time;mean [W];min [W];max [W]"
    assert csv.name.startswith("stuehlinger_pv_roof_south_a_power_")
    assert len(lines) > 100
    first = lines[1].split(";")
    assert datetime.fromisoformat(first[0]).utcoffset() == timedelta(hours=1) or \
        datetime.fromisoformat(first[0]).utcoffset() == timedelta(hours=2)
    assert dash_duo.get_logs() == []


def test_unregistered_and_hostile_ids_have_working_pages(dash_duo: DashComposite,
                                                        pipeline: Pipeline) -> None:
    """Links and pages for ids no catalogue knows, one of them built to break things."""
    _start(dash_duo, pipeline, "/sensors", "en")
    # The table holds one page (catalogued sensors first): find it by the server-side search.
    dash_duo.find_element("#sensors-search").send_keys(HOSTILE)
    wait(lambda: dash_duo.find_element("#sensors-count").text == "1 sensor"
         and _grid_row(dash_duo, HOSTILE), 45, "the hostile sensor's row alone")
    # Click by script on the element found in the same call: the grid may re-render between
    # a find and a click from here.
    dash_duo.driver.execute_script(
        "[...document.querySelectorAll('.sensor-grid a')]"
        ".find(a => a.innerText === arguments[0]).click();", HOSTILE)
    _settled(dash_duo)
    _has(dash_duo, HOSTILE, "Not in the catalogue", "1 point · individual reading")
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#_pages_content b")
    _go(dash_duo, "/sensors/freiburg~no_such_sensor")
    _has(dash_duo, "There is no such sensor")
    assert dash_duo.get_logs() == []


def test_phone_layout_has_no_sideways_scrolling(dash_duo: DashComposite,
                                               pipeline: Pipeline) -> None:
    _start(dash_duo, pipeline, "/", "de")
    # Desktop Chromium lays out no narrower than 500 px: emulate the phone instead.
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    for path in ("/", "/energy", "/status"):
        _go(dash_duo, path)
        right, width = dash_duo.driver.execute_script(
            "const edges = [...document.querySelectorAll('.card, .kpi, .page-head, .topbar')]"
            "  .map(e => e.getBoundingClientRect().right);"
            "return [Math.max(...edges), document.documentElement.clientWidth];")
        assert width <= 400 and right <= width + 1, (path, right, width)
    assert dash_duo.get_logs() == []


def test_store_outage_shows_a_banner_not_an_error(dash_duo: DashComposite,
                                                 pipeline: Pipeline) -> None:
    dead = InfluxStore("http://127.0.0.1:9", "nowhere", timeout_s=1.0)
    app = create_app(dead, pipeline.catalogue, SETTINGS)
    dash_duo.start_server(app)
    _go(dash_duo, "/?lang=en")
    _has(dash_duo, "The database cannot be reached")
    _go(dash_duo, "/sensors")
    _has(dash_duo, "The database cannot be reached")
    assert dash_duo.get_logs() == []
    dead.close()


def test_readings_reach_the_store_through_the_ingest(pipeline: Pipeline) -> None:
    """The data under test really came through MQTT and the ingest (not a direct fill)."""
    latest = pipeline.store.latest()
    stats = {k.sensor.split("/", 1)[1] for k in latest if k.site == "_pipeline"
             and k.sensor.startswith(pipeline.client_id)}
    assert {"messages_accepted", "readings_written"} <= stats
    written = latest[SeriesKey("_pipeline", f"{pipeline.client_id}/readings_written",
                               Quantity.COUNT)].value
    assert written > 20_000
    unregistered = [k for k in latest if k.sensor == UNREGISTERED]
    assert unregistered and latest[unregistered[0]].unregistered
    assert to_ns(datetime.now(UTC)) - max(r.time_ns for r in latest.values()) < 90 * 10**9
