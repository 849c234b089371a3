"""The sensors page with 10,000 sensors: one page of rows in the browser, filtered, searched
and paged on the server, and still reachable by keyboard.

A generated city (testkit.city: templates and CSV files) on a SQLite store with a sensor
state snapshot, as the ingest writes it; the clock is fixed, so statuses are known: every
53rd sensor is silent, the others incomplete (only minutes of data).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any as DashComposite  # dash.testing is not annotated

import pytest
from dashboard_pipeline import wait
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashboard.app import create_app
from dashboard.i18n import fmt_number
from dashboard.pages.sensors import PAGE_SIZE
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.state.tracker import StateTracker
from stadtpuls.state.windows import catalogue_windows
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S
from testkit.city import city_series, write_city

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
]

NOW = 1_790_000_000.0


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SQLiteStore, Catalogue]]:
    tmp = tmp_path_factory.mktemp("city")
    catalogue = load_catalogue(write_city(tmp / "city", 10_000))
    store = SQLiteStore(tmp / "store.db")
    now = int(NOW * NS_PER_S)
    readings = []
    for site, sensor, quantity, kind in city_series(catalogue):
        ages = (3_600,) if kind == 1 else (30, 90, 150)
        readings += [Reading(site, sensor, quantity, now - a * NS_PER_S, 1.0) for a in ages]
    store.write(readings)
    tracker = StateTracker(catalogue_windows(catalogue))
    tracker.add(readings)
    store.write_states(tracker.rows("test-ingest", now - 5 * NS_PER_S))
    yield store, catalogue
    store.close()


def _count(dash_duo: DashComposite) -> str:
    return str(dash_duo.driver.execute_script(
        "const e = document.getElementById('sensors-count'); return e ? e.innerText : '';"))


def _rows(dash_duo: DashComposite) -> list[str]:
    """Texts of the rendered rows (read in one go: the grid re-renders them while we look)."""
    rows: list[str] = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.sensor-grid .ag-center-cols-container "
        ".ag-row')].map(r => r.innerText.trim()).filter(t => t);")
    return rows


def _open(dash_duo: DashComposite, city: tuple[SQLiteStore, Catalogue], query: str) -> None:
    store, catalogue = city
    dash_duo.start_server(create_app(store, catalogue, clock=lambda: NOW))
    dash_duo.driver.set_window_size(1600, 1000)
    dash_duo.driver.get(dash_duo.server_url + "/sensors?lang=en" + query)


def test_ten_thousand_sensors_page_filter_and_search_on_the_server(
        chromium: str, dash_duo: DashComposite, city: tuple[SQLiteStore, Catalogue]) -> None:
    _, catalogue = city
    _open(dash_duo, city, "")
    total = f"{fmt_number(10_000, 'en')} sensors"
    wait(lambda: _count(dash_duo) == total and len(_rows(dash_duo)) == PAGE_SIZE, 60,
         "the first page and the total")
    first_page = _rows(dash_duo)
    # Paging: the next page comes from the server (the browser holds one page).
    dash_duo.driver.find_element(By.CSS_SELECTOR, ".ag-paging-button[data-ref='btNext']").click()
    wait(lambda: _rows(dash_duo) and _rows(dash_duo)[0] not in first_page, 30, "page two")
    assert len(_rows(dash_duo)) == PAGE_SIZE
    assert not set(_rows(dash_duo)) & set(first_page)
    # Search: one sensor by its site and id.
    site, sensor = list(catalogue.sensors())[4_321]
    search = dash_duo.find_element("#sensors-search")
    search.send_keys(f"{site}/{sensor.id}")
    wait(lambda: _count(dash_duo) == "1 sensor", 30, "the search result")
    wait(lambda: len(_rows(dash_duo)) == 1 and sensor.name.en in _rows(dash_duo)[0], 30,
         "the one row")
    assert dash_duo.get_logs() == []


def test_status_filter_and_keyboard_reach_a_sensor(
        chromium: str, dash_duo: DashComposite, city: tuple[SQLiteStore, Catalogue]) -> None:
    _, catalogue = city
    silent = sum(1 for *_, kind in city_series(catalogue) if kind == 1)
    _open(dash_duo, city, "&status=silent")
    wait(lambda: _count(dash_duo) == f"{fmt_number(silent, 'en')} sensors"
         and len(_rows(dash_duo)) == PAGE_SIZE, 60, "the silent sensors")
    assert all("silent" in row for row in _rows(dash_duo))
    # Tab from the top of the page reaches a sensor's link; Enter opens its page.
    body = dash_duo.driver.find_element(By.TAG_NAME, "body")
    body.click()
    for _ in range(80):
        dash_duo.driver.switch_to.active_element.send_keys(Keys.TAB)
        active = dash_duo.driver.switch_to.active_element
        if active.tag_name == "a" and dash_duo.driver.execute_script(
                "return !!arguments[0].closest('.sensor-grid')", active):
            break
    else:
        pytest.fail("Tab never reached a sensor link in the table")
    href = active.get_attribute("href")
    active.send_keys(Keys.ENTER)
    wait(lambda: "/sensors/" in dash_duo.driver.current_url, 30, "the sensor's page")
    assert dash_duo.driver.current_url.split("?")[0] == href.split("?")[0]
    assert "~" in href
    assert dash_duo.get_logs() == []
