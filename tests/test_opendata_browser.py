"""The landing page `/opendata` in headless Chromium: reachable from the navigation, both
languages, a clean console, no sideways scrolling on a phone, and its links lead to files.

Run: .venv/bin/python -m pytest tests/test_opendata_browser.py --webdriver Chrome --headless
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any as DashComposite  # dash.testing is not annotated

import pytest
from dashboard_pipeline import wait
from selenium.webdriver.common.by import By

from dashboard.app import create_app
from stadtpuls.catalogue import load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
]
ROOT = Path(__file__).resolve().parents[1]
SETTLED = "return document.querySelectorAll('#_pages_content table tbody tr').length"


def test_landing_page_in_the_browser(dash_duo: DashComposite, chromium: str,
                                     tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "readings.db")
    store.write([Reading("freiburg", "noise_bertoldsbrunnen", Quantity.NOISE,
                         int(datetime(2025, 3, 1, 12, tzinfo=UTC).timestamp()) * 10**9, 61.5)])
    catalogue = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    app = create_app(store, catalogue, clock=lambda: datetime(2025, 4, 20, tzinfo=UTC)
                     .timestamp())
    dash_duo.start_server(app)
    dash_duo.driver.set_window_size(1440, 900)
    dash_duo.driver.get(dash_duo.server_url + "/?lang=en")
    wait(lambda: "Open data" in dash_duo.find_element("#nav").text, 20, "the navigation")
    dash_duo.driver.find_element(By.LINK_TEXT, "Open data").click()
    wait(lambda: dash_duo.driver.execute_script(SETTLED) == 32, 20, "the dataset table")
    text = dash_duo.find_element("#_pages_content").text
    assert "How to cite" in text and "Noise Bertoldsbrunnen" in text
    assert "Sitzungssaal" not in text  # its sensors are internal or personal
    assert dash_duo.find_element("html").get_attribute("lang") == "en"
    # Phone width: nothing wider than the screen (the table scrolls inside its card).
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    right, width = dash_duo.driver.execute_script(
        "const edges = [...document.querySelectorAll('.card, .page-head, .topbar')]"
        "  .map(e => e.getBoundingClientRect().right);"
        "return [Math.max(...edges), document.documentElement.clientWidth];")
    assert width <= 400 and right <= width + 1, (right, width)
    link = dash_duo.driver.find_element(
        By.CSS_SELECTOR, 'a[href="/opendata/files/freiburg/noise_bertoldsbrunnen/"]')
    link.click()
    wait(lambda: "2025-03.csv" in dash_duo.driver.page_source, 20, "the file list")
    assert dash_duo.get_logs() == []
    store.close()
