"""Every public page, German and English, checked by axe-core for WCAG 2.1 A and AA (BITV 2.0).

The dashboard runs on a real SQLite store with a day of simulated data in which every status
shows up; headless Chromium (dash.testing's driver) loads each page, axe-core (npm, pinned in
tests/a11y/package.json) is injected into it and any violation fails with rule, impact,
element and help.

Run: .venv/bin/python -m pytest tests/test_a11y_axe.py --webdriver Chrome --headless
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any as DashComposite  # dash.testing is not annotated

import pytest
from a11y_support import (
    ShowcaseStore,
    assert_no_violations,
    axe_source,
    kiosk_shown,
    settled,
    showcase_store,
    wait,
)

from dashboard.data.source import DashboardSettings
from dashboard.pages import ALL as ALL_PAGES
from testkit.a11y import dash_paths, report_month

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # dash.testing stops its server threads with SystemExit: its noise, not ours
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated"),
]

# No refresh during a check: a page whose refresh outlasts its interval never settles.
SETTINGS = DashboardSettings(refresh_s=300.0)
# Every public Dash page (testkit/a11y.py, shared with the reflow test and the screenshots);
# the report's print view and the lobby screen are checked below.
PAGES = dash_paths()


@pytest.fixture(scope="module")
def showcase(chromium: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[ShowcaseStore]:
    yield from showcase_store(tmp_path_factory.mktemp("a11y"))


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def _open(dash_duo: DashComposite, showcase: ShowcaseStore, path: str, lang: str) -> None:
    dash_duo.start_server(showcase.app(SETTINGS))
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.driver.get(f"{dash_duo.server_url}{path}?lang={lang}")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_pages_have_no_wcag_violations(dash_duo: DashComposite, showcase: ShowcaseStore,
                                       axe: str, lang: str) -> None:
    # One server and browser for all pages of a language (a server per page cost minutes of
    # CI time); every page is checked and all findings are reported together.
    _open(dash_duo, showcase, PAGES[0], lang)
    problems: list[str] = []
    for path in PAGES:
        dash_duo.driver.get(f"{dash_duo.server_url}{path}?lang={lang}")
        try:
            settled(dash_duo.driver)
            wait(lambda: dash_duo.find_element("html").get_attribute("lang") == lang, 15,
                 f"{path} in {lang}")
            assert_no_violations(dash_duo.driver, axe, f"{path} ({lang})")
            logs = dash_duo.get_logs()
            assert logs == [], f"{path} ({lang}): browser console: {logs}"
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n\n".join(problems)


def test_every_dash_page_is_checked() -> None:
    # A new page must join the list above (the 404 page is checked as /no-such-page).
    paths = {p.options["path"] for p in ALL_PAGES if "path" in p.options}
    assert paths - set(PAGES) <= {"/404"}, sorted(paths - set(PAGES))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_report_print_view_has_no_wcag_violations(dash_duo: DashComposite,
                                                  showcase: ShowcaseStore, axe: str,
                                                  lang: str) -> None:
    month = report_month()
    _open(dash_duo, showcase, f"/reports/stuehlinger/{month}", lang)
    wait(lambda: dash_duo.find_element("html").get_attribute("lang") == lang, 15,
         f"the report in {lang}")
    assert_no_violations(dash_duo.driver, axe, f"/reports/stuehlinger/{month} ({lang})")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_kiosk_has_no_wcag_violations(dash_duo: DashComposite, showcase: ShowcaseStore,
                                      axe: str, lang: str) -> None:
    # The next scene's fade-in (0.6 s) could start while axe reads the colours: checked as a
    # screen set to reduce motion shows it, without fades (the colours are the same).
    dash_duo.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    _open(dash_duo, showcase, "/kiosk/lobby", lang)
    kiosk_shown(dash_duo.driver)
    assert dash_duo.find_element("html").get_attribute("lang") == lang
    assert_no_violations(dash_duo.driver, axe, f"/kiosk/lobby ({lang})")
    assert dash_duo.get_logs() == []
