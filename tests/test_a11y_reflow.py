"""Reflow (WCAG 1.4.10, BITV 2.0): every public page at 320 CSS px width, what 400 % zoom
leaves of a 1280 px window, in German and English: the page never scrolls sideways and
nothing sticks out of it; a wide table may scroll in a box of its own, which the keyboard
must reach. Also with every chart's data table opened.

One dashboard (on the showcase data, with login and alerts: a11y_support) and one headless
Chromium serve every page and both languages: a server or browser per page costs minutes
of CI time. The pages are testkit/a11y.py's list, shared with the axe tests and the
screenshots to look at (bench/screenshots_a11y.py).

Run: .venv/bin/python -m pytest tests/test_a11y_reflow.py
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from a11y_support import ShowcaseStore, kiosk_shown, settled, showcase_store
from conftest import CHROMIUM_FLAGS
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from dashboard.data.source import DashboardSettings
from testkit.a11y import REFLOW_WIDTH, PublicPage, emulate_width, public_pages, reflow_problems
from testkit.kiosk import Served

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated"),
]

# No refresh while a page is measured.
SETTINGS = DashboardSettings(refresh_s=300.0)


@pytest.fixture(scope="module")
def showcase(chromium: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[ShowcaseStore]:
    yield from showcase_store(tmp_path_factory.mktemp("a11y-reflow"))


@pytest.fixture(scope="module")
def base_url(showcase: ShowcaseStore) -> Iterator[str]:
    served = Served(showcase.app(SETTINGS).server)
    try:
        yield served.url
    finally:
        served.stop()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    options: Any = Options()
    for flag in (*CHROMIUM_FLAGS, "--headless"):
        options.add_argument(flag)
    driver: Any = webdriver.Chrome(service=Service(chromium), options=options)
    try:
        emulate_width(driver, REFLOW_WIDTH)
        yield driver
    finally:
        driver.quit()


def _shown(driver: Any, page: PublicPage) -> None:
    if page.kind == "dash":
        settled(driver)
    elif page.kind == "kiosk":
        kiosk_shown(driver)


def _open_data_tables(driver: Any) -> int:
    return int(driver.execute_script(
        "const all = [...document.querySelectorAll('details:not([open])')];"
        "all.forEach(d => { d.open = true; }); return all.length;"))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_public_page_reflows_at_320_px(base_url: str, browser: Any, lang: str) -> None:
    problems: list[str] = []
    for page in public_pages():
        where = f"{page.path} ({lang})"
        try:
            browser.get(f"{base_url}{page.path}?lang={lang}")
            _shown(browser, page)
            problems += [f"{where}: {p}" for p in reflow_problems(browser)]
            if _open_data_tables(browser):
                problems += [f"{where} with the data tables open: {p}"
                             for p in reflow_problems(browser)]
        except (AssertionError, WebDriverException) as exc:
            problems.append(f"{where}: not checked: {exc}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("body", "found"), [
    ('<p style="width: 500px">too wide</p>', "the page scrolls sideways"),
    # clipped by the page instead of scrolled to: lost all the same
    ('<style>html, body { overflow: hidden }</style><p style="width: 500px">cut</p>',
     '<p> "cut" reaches'),
    ('<div id="box" style="overflow-x: auto"><p style="width: 500px">wide</p></div>',
     '<div#box> "wide" scrolls sideways but the keyboard cannot reach it'),
])
def test_the_reflow_check_finds_what_breaks_reflow(browser: Any, body: str,
                                                   found: str) -> None:
    browser.get("data:text/html;charset=utf-8,<!DOCTYPE html><html><body>" + body)
    assert any(found in p for p in reflow_problems(browser)), reflow_problems(browser)


def test_a_box_the_keyboard_can_scroll_is_fine(browser: Any) -> None:
    browser.get('data:text/html;charset=utf-8,<!DOCTYPE html><html><body>'
                '<div tabindex="0" style="overflow-x: auto"><p style="width: 500px">wide</p>'
                "</div><p>narrow</p>")
    assert reflow_problems(browser) == []
