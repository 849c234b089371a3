"""The report page in a real browser, its PDF from headless Chromium, and its CSV against the
energy page, on a month of simulated data (`testkit.report_month`: March 2025, SQLite).

The dashboard's clock is frozen late on 31 March, so the energy page's "this month" is the
month of the report and both pages can be compared as they are shown.

Run: .venv/bin/python -m pytest tests/test_reports_browser.py --webdriver Chrome --headless
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any as DashComposite  # dash.testing is not annotated

import pytest
from selenium.webdriver.common.by import By

from dashboard.app import create_app
from dashboard.data.energy import site_energy
from dashboard.data.source import DataSource
from stadtpuls.catalogue import Catalogue
from stadtpuls.store.sqlite import SQLiteStore
from testkit.report_month import BERLIN, SITE, catalogue, simulate_march

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated"),
]

AT = datetime(2025, 3, 31, 23, 59, 30, tzinfo=BERLIN)
SHOTS = Path("/tmp/report-shots")


@pytest.fixture(scope="module")
def data(chromium: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[SQLiteStore, Catalogue]]:
    cat = catalogue()
    path = tmp_path_factory.mktemp("report-browser") / "march.db"
    simulate_march(path, cat)
    store = SQLiteStore(path)
    yield store, cat
    store.close()


def _text(dash_duo: DashComposite, selector: str) -> str:
    return str(dash_duo.find_element(selector).text)


def _squash(text: str) -> str:
    """Whitespace of any kind (the narrow no-break space before units) as one space."""
    return re.sub(r"\s+", " ", text.replace("\u202f", " ")).strip()


def test_month_report_renders_prints_and_agrees_with_the_energy_page(
        dash_duo: DashComposite, data: tuple[SQLiteStore, Catalogue], tmp_path: Path) -> None:
    store, cat = data
    app = create_app(store, cat, clock=lambda: AT.timestamp())
    dash_duo.start_server(app)
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.driver.get(f"{dash_duo.server_url}/reports?site={SITE}&period=2025-03&lang=de")
    dash_duo.wait_for_contains_text("#report-heading", "März 2025", timeout=60)
    assert "Rathaus im Stühlinger" in _text(dash_duo, "#report-heading")
    figures = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".report-figure")
    shown = {f.find_element(By.TAG_NAME, "dt").text: f.find_element(By.TAG_NAME, "dd").text
             for f in figures}
    report_pv = shown["PV-Erzeugung"]
    assert re.fullmatch(r"\d+,\d\sMWh", report_pv), report_pv
    for key in ("arrays", "breakdown", "earlier", "completeness"):
        table = dash_duo.find_element(f"#report-{key} table")
        assert table.find_element(By.TAG_NAME, "caption").text
        assert table.find_elements(By.CSS_SELECTOR, "th[scope=row]")
    assert "keine Daten" in _text(dash_duo, "#report-earlier")
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / "report-page.png"))
    csv_href = dash_duo.find_element("#report-csv").get_attribute("href")
    print_href = dash_duo.find_element("#report-print").get_attribute("href")
    assert csv_href.endswith("/reports/stuehlinger/2025-03.csv?lang=de")

    # The energy page shows the same month total, in the same words.
    dash_duo.driver.get(f"{dash_duo.server_url}/energy?lang=de")
    dash_duo.wait_for_contains_text("#energy-balance", "Dieser Monat", timeout=60)
    row = next(r for r in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#energy-balance tr")
               if r.text.startswith("Dieser Monat"))
    assert _squash(row.find_elements(By.TAG_NAME, "td")[0].text) == _squash(report_pv)
    assert dash_duo.get_logs() == []

    # The CSV agrees with the data function behind the energy page.
    with urllib.request.urlopen(csv_href, timeout=60) as answer:
        text = answer.read().decode("utf-8-sig")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    rows = {(r["section"], r["figure"]): r["value"]
            for r in csv.DictReader(io.StringIO(body), delimiter=";") if r["section"] == "total"}
    month = site_energy(DataSource.create(store, cat, clock=lambda: AT.timestamp()),
                        SITE).balances["month"]
    assert month.pv_wh is not None and month.self_sufficiency is not None
    assert float(rows[("total", "pv_production")].replace(",", ".")) == pytest.approx(
        month.pv_wh / 1000, abs=0.001)
    assert float(rows[("total", "self_sufficiency")].replace(",", ".")) == pytest.approx(
        month.self_sufficiency * 100, abs=0.001)

    # Headless Chromium prints the print view to an A4 PDF holding the site and the total,
    # and none of the controls.
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser is not None
    pdf = tmp_path / "report.pdf"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--print-to-pdf={pdf}", print_href],
                   check=True, capture_output=True, timeout=120)
    assert pdf.read_bytes().startswith(b"%PDF")
    shutil.copy(pdf, SHOTS / "report.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    assert re.search(r"Page size:\s+59[45]\.\d+ x 84[12]\.\d+ pts \(A4\)", info), info
    pages = int(re.search(r"Pages:\s+(\d+)", info)[1])  # type: ignore[index]
    assert 1 <= pages <= 4, pages
    printed = _squash(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                                     capture_output=True, text=True).stdout)
    assert "Rathaus im Stühlinger" in printed
    assert _squash(report_pv) in printed
    assert "Drucken oder als PDF speichern" not in printed  # no controls on paper
    assert "Zur Berichtsauswahl" not in printed
    # each page's margin names the report and counts pages, instead of the browser's URL
    assert f"Stadtpuls · Rathaus im Stühlinger · März 2025 Seite 1 von {pages}" in printed
    assert "http" not in printed
