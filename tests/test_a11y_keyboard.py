"""The dashboard with the keyboard alone, in headless Chromium (selenium Keys), on a real
SQLite store with a day of simulated data: the paths of issue 14.

Run: .venv/bin/python -m pytest tests/test_a11y_keyboard.py --webdriver Chrome --headless
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from typing import Any as DashComposite  # dash.testing is not annotated
from urllib.parse import unquote, urlparse

import pytest
from a11y_support import ShowcaseStore, settled, showcase_store, wait
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from dashboard.app import create_app
from dashboard.data.source import DashboardSettings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # dash.testing stops its server threads with SystemExit: its noise, not ours
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated"),
]

SETTINGS = DashboardSettings(refresh_s=300.0)  # no refresh in the way of a key path
LIVE = DashboardSettings(refresh_s=2.0, live_bucket_s=1.0)  # for the refresh test
MAX_TABS = 120  # far more than any page has before the element a test looks for
RANGES = ["1h", "24h", "7d", "30d", "1y", "custom"]


@pytest.fixture(scope="module")
def showcase(chromium: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[ShowcaseStore]:
    yield from showcase_store(tmp_path_factory.mktemp("a11y-keys"))


def _open(dash_duo: DashComposite, showcase: ShowcaseStore, path: str, lang: str = "de",
          settings: DashboardSettings = SETTINGS) -> None:
    dash_duo.start_server(create_app(showcase.store, showcase.catalogue, settings))
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.driver.get(f"{dash_duo.server_url}{path}?lang={lang}")
    settled(dash_duo.driver)


def _press(dash_duo: DashComposite, *keys: str) -> None:
    ActionChains(dash_duo.driver).send_keys(*keys).perform()


def _shift_tab(dash_duo: DashComposite) -> None:
    ActionChains(dash_duo.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(
        Keys.SHIFT).perform()


def _active(dash_duo: DashComposite, script: str) -> Any:
    """`script` evaluated with `e` = the focused element."""
    return dash_duo.driver.execute_script(f"const e = document.activeElement; return {script};")


def _tab_until(dash_duo: DashComposite, condition: str, what: str) -> int:
    """Press Tab until the focused element `e` meets `condition` (JS); how many presses."""
    for count in range(1, MAX_TABS + 1):
        _press(dash_duo, Keys.TAB)
        if _active(dash_duo, condition):
            return count
    raise AssertionError(f"{MAX_TABS} Tabs never reached {what}; last focus: "
                         + str(_active(dash_duo, "e.outerHTML.slice(0, 200)")))


def _heading(dash_duo: DashComposite) -> str | None:
    try:  # the new page may still be loading
        return str(dash_duo.driver.execute_script(
            "const h = document.querySelector('h1'); return h ? h.textContent : null"))
    except WebDriverException:
        return None


def _from_start(dash_duo: DashComposite) -> None:
    dash_duo.driver.execute_script("document.activeElement && document.activeElement.blur();"
                                   "window.scrollTo(0, 0);")


def test_tab_reaches_each_time_range_and_enter_selects_it(
        dash_duo: DashComposite, showcase: ShowcaseStore) -> None:
    _open(dash_duo, showcase, "/sensors/stuehlinger~weather_air_temperature")
    group = dash_duo.find_element("#detail-ranges")
    assert group.get_attribute("role") == "group"
    assert group.get_attribute("aria-label") == "Zeitraum"
    _from_start(dash_duo)
    for name in RANGES:
        _tab_until(dash_duo, f"e.dataset.range === '{name}'", f"the range {name}")
        visible = _active(dash_duo, "getComputedStyle(e).outlineStyle")
        assert visible != "none", f"no focus ring on the range {name}"
        _press(dash_duo, Keys.ENTER)
        wait(lambda n=name: dash_duo.driver.execute_script(
            "return [...document.querySelectorAll('#detail-ranges [data-range]')]"
            ".map(b => b.dataset.range + '=' + b.getAttribute('aria-pressed')).join(' ')")
            == " ".join(f"{r}={'true' if r == n else 'false'}" for r in RANGES),
            15, f"{name} to be the one pressed range")
        assert _active(dash_duo, "e.dataset.range") == name  # the focus stayed on it
    # "custom" shows the date fields, which come next in the Tab order
    _tab_until(dash_duo, "e.id === 'detail-dates'", "the custom range's first date")
    assert dash_duo.get_logs() == []


def test_tab_reaches_a_sensor_link_and_enter_opens_its_page(
        dash_duo: DashComposite, showcase: ShowcaseStore) -> None:
    _open(dash_duo, showcase, "/sensors")
    wait(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('.sensor-grid .ag-row a[href]').length >= 10"),
        20, "the sensors' links")
    _from_start(dash_duo)
    _tab_until(dash_duo, "e.tagName === 'A' && e.getAttribute('href').startsWith('/sensors/')",
               "a sensor's link")
    name = _active(dash_duo, "e.textContent")
    href = _active(dash_duo, "e.getAttribute('href')")
    # the next Tab goes to the next sensor, not back into the header
    _press(dash_duo, Keys.TAB)
    following = _active(dash_duo, "e.getAttribute('href') || ''")
    assert following.startswith("/sensors/") and following != href, following
    _shift_tab(dash_duo)
    assert _active(dash_duo, "e.getAttribute('href')") == href
    _press(dash_duo, Keys.ENTER)
    wait(lambda: urlparse(dash_duo.driver.current_url).path == href, 15, f"{href} to open")
    site, sensor = unquote(href.removeprefix("/sensors/")).split("~")[:2]
    assert (site, sensor) == ("stuehlinger", sensor) and sensor
    wait(lambda: _heading(dash_duo) == name, 30, f"the page of {name}")
    assert dash_duo.get_logs() == []


_COUNT_REFRESHES = """
window.__refreshes = 0;
const original = window.fetch;
window.fetch = function (url, options) {
  const body = options && typeof options.body === 'string' ? options.body : '';
  const result = original.apply(this, arguments);
  if (String(url).includes('_dash-update-component') && body.includes('overview-tick')) {
    result.then(r => r.clone().text()).then(() => { window.__refreshes += 1; });
  }
  return result;
};
"""


def test_focused_link_on_the_overview_keeps_focus_across_live_refreshes(
        dash_duo: DashComposite, showcase: ShowcaseStore) -> None:
    _open(dash_duo, showcase, "/", settings=LIVE)
    wait(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('.site-card .card-link').length > 0"),
        20, "the overview's cards")
    live = dash_duo.find_element("#overview-announce")
    assert live.get_attribute("aria-live") == "polite" and live.get_attribute("role") == "status"
    _from_start(dash_duo)
    _tab_until(dash_duo, "e.classList.contains('card-link')", "a card's link")
    dash_duo.driver.execute_script("document.activeElement.dataset.marked = 'yes';")
    dash_duo.driver.execute_script(_COUNT_REFRESHES)
    wait(lambda: dash_duo.driver.execute_script("return window.__refreshes") >= 2, 30,
         "two live refreshes of the overview")
    settled(dash_duo.driver)
    # The same element (not a copy in its place) still has the focus.
    assert _active(dash_duo, "e.dataset.marked") == "yes", _active(dash_duo, "e.outerHTML")
    assert dash_duo.get_logs() == []


def test_language_switch_works_by_keyboard_and_tells_its_state(
        dash_duo: DashComposite, showcase: ShowcaseStore) -> None:
    _open(dash_duo, showcase, "/energy", "de")
    assert dash_duo.driver.title == "Energie – Stadtpuls"
    switch = dash_duo.find_element("#lang-switch")
    assert switch.get_attribute("role") == "group" and switch.get_attribute("aria-label")
    _from_start(dash_duo)
    _tab_until(dash_duo, "e.id === 'lang-en'", "the English button")
    assert _active(dash_duo, "e.getAttribute('aria-pressed')") == "false"
    assert _active(dash_duo, "getComputedStyle(e).outlineStyle") != "none"
    _press(dash_duo, Keys.ENTER)
    wait(lambda: dash_duo.find_element("html").get_attribute("lang") == "en", 15,
         "the page to switch to English")
    wait(lambda: dash_duo.driver.title == "Energy – Stadtpuls", 15, "the English title")
    assert dash_duo.find_element("#lang-en").get_attribute("aria-pressed") == "true"
    assert dash_duo.find_element("#lang-de").get_attribute("aria-pressed") == "false"
    assert "Overview" in dash_duo.find_element("#nav").text
    # Space switches back; the server's next page agrees (the switch set its cookie).
    _shift_tab(dash_duo)
    assert _active(dash_duo, "e.id") == "lang-de"
    _press(dash_duo, Keys.SPACE)
    wait(lambda: dash_duo.find_element("html").get_attribute("lang") == "de", 15,
         "the page to switch back to German")
    cookie = dash_duo.driver.get_cookie("stadtpuls_lang")
    assert cookie is not None and cookie["value"] == "de"
    assert dash_duo.get_logs() == []
