"""Reports for facility managers: figures against the simulator's ground truth for a month,
agreement with the energy page, the year as the sum of its months, honest "no data" for
earlier years, bounded inputs, the CSV and the printable document.

All reads go through a real SQLite store filled by the simulators (`testkit.report_month`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from dashboard import i18n
from dashboard.app import create_app
from dashboard.data.energy import site_energy
from dashboard.data.periods import RangeRefused
from dashboard.data.report import Report, ReportPeriod, parse_period, site_report
from dashboard.data.source import DataSource
from dashboard.reports.view import report_view
from simulators.generate import SiteSimulation
from stadtpuls.catalogue import Catalogue
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.protocol import StoreReader
from stadtpuls.store.sqlite import SQLiteStore
from testkit.report_month import (
    BERLIN,
    MONTH_END,
    MONTH_START,
    OUTAGE,
    SITE,
    catalogue,
    simulate_march,
    simulate_march_into,
)
from testkit.report_month import truth_kwh as truth
from testkit.servers import InfluxServer

# pvlib 0.16 asks pandas 3 for a deprecated attribute inside get_solarposition
pytestmark = pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated")

MARCH = ReportPeriod(2025, 3)
# Late on the month's last day: the energy page's "this month" is the whole month.
LAST_EVENING = datetime(2025, 3, 31, 23, 59, 30, tzinfo=BERLIN)
AFTER = datetime(2025, 4, 2, 10, 0, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return catalogue()


@pytest.fixture(scope="module")
def march(cat: Catalogue, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[SQLiteStore, list[SiteSimulation]]]:
    path = tmp_path_factory.mktemp("report") / "march.db"
    sims = simulate_march(path, cat)
    store = SQLiteStore(path)
    yield store, sims
    store.close()


def _source(store: StoreReader, cat: Catalogue, at: datetime) -> DataSource:
    return DataSource.create(store, cat, clock=lambda: at.timestamp())


@pytest.fixture(scope="module")
def report(march: tuple[SQLiteStore, list[SiteSimulation]], cat: Catalogue) -> Report:
    return site_report(_source(march[0], cat, AFTER), SITE, MARCH)


def test_month_figures_match_the_simulators_ground_truth(
        report: Report, march: tuple[SQLiteStore, list[SiteSimulation]], cat: Catalogue) -> None:
    _, sims = march
    assert not report.running and report.days == 31 and report.days_with_data == 31
    for line in report.arrays:
        assert line.energy_wh is not None
        # roof_centre's meter was replaced mid-month: the reset must not lose or add energy
        assert line.energy_wh / 1000 == pytest.approx(truth(sims, line.array_id), rel=0.01), \
            line.array_id
        assert line.specific_yield == pytest.approx(line.energy_wh / line.peak_w)
        # the model is fed the measured weather; the simulator shades façades, so the ratio
        # sits in the documented band, never above 1 by much
        assert line.ratio is not None and 0.6 < line.ratio < 1.05, line.array_id
    total = report.total
    pv, load, export = truth(sims, "pv"), truth(sims, "load"), truth(sims, "export")
    assert total.pv_wh is not None and total.consumption_wh is not None
    assert total.pv_wh / 1000 == pytest.approx(pv, rel=0.01)
    assert total.consumption_wh / 1000 == pytest.approx(load, rel=0.01)
    assert total.self_consumption == pytest.approx((pv - export) / pv, abs=0.01)
    assert total.self_sufficiency == pytest.approx((pv - export) / load, abs=0.01)
    # the factor the energy page uses (UBA 2024, 363 g/kWh)
    assert total.co2_avoided_kg == pytest.approx(total.pv_wh / 1000 * 0.363)
    # each local day of March, the DST day (23 hours) included, from the meters
    for day, b in report.breakdown:
        start = datetime(day.year, day.month, day.day, tzinfo=BERLIN)
        assert b.pv_wh is not None
        assert b.pv_wh / 1000 == pytest.approx(truth(sims, "pv", start, start + timedelta(days=1)),
                                               rel=0.02, abs=1.0), day
    assert [d for d, _ in report.breakdown] == [date(2025, 3, d) for d in range(1, 32)]
    assert sum(b.pv_wh or 0 for _, b in report.breakdown) == pytest.approx(total.pv_wh)
    kwp = sum(a.peak_power_w for a in cat.sites[SITE].pv_arrays)
    assert report.specific_yield == pytest.approx(total.pv_wh / kwp)
    assert report.expected_yield == pytest.approx(
        sum(a.expected_wh or 0 for a in report.arrays) / kwp)


def test_completeness_shows_the_weather_outage(report: Report) -> None:
    by_id = {c.sensor.id: c for c in report.completeness}
    minutes = (MONTH_END.timestamp() - MONTH_START.timestamp()) / 60  # DST: 743 h
    assert minutes == 743 * 60
    irradiance = by_id["weather_irradiance"]
    assert irradiance.expected == pytest.approx(minutes)
    assert irradiance.readings == pytest.approx(minutes - OUTAGE.total_seconds() / 60, abs=2)
    assert by_id["pv_roof_centre_energy"].share == pytest.approx(1.0, abs=0.001)
    assert report.weather_share is not None
    assert report.weather_share == pytest.approx(1 - 2 / 743, abs=0.001)


def test_month_agrees_with_the_energy_page(march: tuple[SQLiteStore, list[SiteSimulation]],
                                           cat: Catalogue) -> None:
    source = _source(march[0], cat, LAST_EVENING)
    page = site_energy(source, SITE)
    got = site_report(source, SITE, MARCH)
    month = page.balances["month"]
    assert month.pv_wh is not None
    assert got.total.pv_wh == pytest.approx(month.pv_wh, rel=1e-12)
    assert got.total.consumption_wh == pytest.approx(month.consumption_wh, rel=1e-12)
    assert got.total.self_sufficiency == pytest.approx(month.self_sufficiency, rel=1e-12)
    assert got.total.co2_avoided_kg == pytest.approx(month.co2_avoided_kg, rel=1e-12)
    by_id = {a.array.id: a for a in page.arrays}
    for line in got.arrays:
        assert line.specific_yield == pytest.approx(by_id[line.array_id].specific_yield("month"),
                                                    rel=1e-12)
    # and as both show it
    view = report_view(source, got, "de")
    assert dict(view.figures)["PV-Erzeugung"] == i18n.fmt_energy(month.pv_wh, "de")


def test_year_is_the_sum_of_its_months_and_earlier_years_say_no_data(
        report: Report, march: tuple[SQLiteStore, list[SiteSimulation]], cat: Catalogue) -> None:
    source = _source(march[0], cat, AFTER)
    year = site_report(source, SITE, ReportPeriod(2025))
    february = site_report(source, SITE, ReportPeriod(2025, 2))
    april = site_report(source, SITE, ReportPeriod(2025, 4))
    assert year.running and february.total.pv_wh is not None
    parts = [february.total.pv_wh, report.total.pv_wh, april.total.pv_wh]
    assert year.total.pv_wh == pytest.approx(sum(p or 0 for p in parts), rel=1e-12)
    assert [d.month for d, _ in year.breakdown] == [1, 2, 3, 4]
    assert year.breakdown[0][1].pv_wh is None  # January: no data, not zero
    assert [e.year for e in report.earlier] == [2024, 2023, 2022, 2021, 2020]
    assert all(e.balance.pv_wh is None for e in report.earlier)
    view = report_view(source, report, "en")
    earlier = next(t for t in view.tables if t.key == "earlier")
    assert earlier.rows[1] == ("2024", ["no data", "", "", "", "", "", ""])


def test_running_month_compares_the_same_days_of_earlier_years(
        march: tuple[SQLiteStore, list[SiteSimulation]], cat: Catalogue) -> None:
    # A March 2026 report on 2026-03-10 compares 1–10 March 2025, not the whole month.
    source = _source(march[0], cat, datetime(2026, 3, 10, 12, tzinfo=BERLIN))
    got = site_report(source, SITE, ReportPeriod(2026, 3))
    assert got.running and got.total.pv_wh is None
    last_year = got.earlier[0]
    assert last_year.year == 2025 and last_year.days == 10 and last_year.days_with_data == 10
    assert last_year.balance.pv_wh is not None
    first_ten = sum(b.pv_wh or 0 for d, b in site_report(_source(march[0], cat, AFTER), SITE,
                                                           MARCH).breakdown if d.day <= 10)
    assert last_year.balance.pv_wh == pytest.approx(first_ten, rel=1e-12)


@pytest.mark.parametrize(("text", "key"), [
    ("2025-13", "report.bad_period"), ("2025-00", "report.bad_period"),
    ("25", "report.bad_period"), ("2025-3", "report.bad_period"), ("", "report.bad_period"),
    ("2025-03-01", "report.bad_period"), ("99999", "report.bad_period"),
    ("1999", "report.outside"), ("1999-12", "report.outside"), ("2025-05", "report.outside"),
    ("2026", "report.outside"),
])
def test_periods_are_bounded(text: str, key: str) -> None:
    with pytest.raises(RangeRefused) as refused:
        parse_period(text, date(2025, 4, 2))
    assert refused.value.key == key


def test_periods_that_exist_parse() -> None:
    assert parse_period("2025-04", date(2025, 4, 2)) == ReportPeriod(2025, 4)
    assert parse_period("2000", date(2025, 4, 2)) == ReportPeriod(2000)
    assert ReportPeriod(2025, 12).next_first_day == date(2026, 1, 1)


def test_csv_and_document_routes(march: tuple[SQLiteStore, list[SiteSimulation]],
                                 cat: Catalogue, report: Report) -> None:
    app = create_app(march[0], cat, clock=lambda: AFTER.timestamp())
    client = app.server.test_client()
    answer = client.get(f"/reports/{SITE}/2025-03.csv?lang=de")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "stadtpuls-report-stuehlinger-2025-03.csv" in answer.headers["Content-Disposition"]
    raw = answer.get_data()
    assert raw.startswith(b"\xef\xbb\xbf# Stadtpuls energy report")  # BOM: Excel reads UTF-8
    text = raw.decode("utf-8-sig")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("site: stuehlinger" in line for line in header)
    assert any("period: 2025-03 (2025-03-01T00:00:00+01:00 to 2025-04-01T00:00:00+02:00)"
               in line for line in header)
    assert any("units: energy kWh" in line for line in header)
    assert any("363 g/kWh (Umweltbundesamt" in line for line in header)
    assert any(line.startswith("# generated: 2025-04-02T10:00:00+02:00") for line in header)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(body)), delimiter=";"))
    values = {(r["section"], r["item"], r["figure"]): r for r in rows}
    pv = values[("total", "2025-03", "pv_production")]
    assert pv["unit"] == "kWh"
    assert report.total.pv_wh is not None
    assert float(pv["value"].replace(",", ".")) == pytest.approx(report.total.pv_wh / 1000,
                                                                 abs=0.001)
    assert values[("earlier_year", "2024", "pv_production")]["value"] == ""  # no data
    days = [r for r in rows if r["section"] == "day" and r["figure"] == "pv_production"]
    assert len(days) == 31

    document = client.get(f"/reports/{SITE}/2025-03?lang=de").get_data(as_text=True)
    assert "Rathaus im Stühlinger · März 2025" in document
    assert i18n.fmt_energy(report.total.pv_wh, "de") in document
    assert '<th scope="col">' in document and '<th scope="row">' in document
    assert document.count("<caption>") == 4 and "@page" in document
    # the chart: one bar per day of March, with a text alternative
    assert 'role="img" aria-label="PV-Erzeugung je Tag, März 2025' in document
    # (twice: the wide chart and the narrow one for phones, one shown by a media query)
    assert document.count("<rect ") == 2 * 31

    for url, status, message in [
        (f"/reports/{SITE}/2025-13.csv", 400, "no such period"),
        (f"/reports/{SITE}/2031-01.csv", 404, "Reports exist for 2000-01 to 2025-04"),
        ("/reports/nowhere/2025-03.csv", 404, "no such site"),
        (f"/reports/{SITE}/2025-13", 400, "no such period"),
        ("/reports/nowhere/2025", 404, "no such site"),
    ]:
        refused = client.get(url + "?lang=en")
        assert refused.status_code == status, url
        assert message in refused.get_data(as_text=True), url


@pytest.mark.integration
def test_the_same_report_from_influxdb(influx: InfluxServer, influx_db: str, cat: Catalogue,
                                       report: Report) -> None:
    """The same simulation in the session's real InfluxDB gives the same report."""
    store = InfluxStore(influx.url, f"{influx_db}/autogen")
    try:
        simulate_march_into(store, cat)
        got = site_report(_source(store, cat, AFTER), SITE, MARCH)
    finally:
        store.close()
    assert got.total.pv_wh == pytest.approx(report.total.pv_wh, rel=1e-9)
    assert got.total.consumption_wh == pytest.approx(report.total.consumption_wh, rel=1e-9)
    assert got.total.self_sufficiency == pytest.approx(report.total.self_sufficiency, rel=1e-9)
    assert [(d, b.pv_wh) for d, b in got.breakdown] == [
        (d, pytest.approx(b.pv_wh, rel=1e-9)) for d, b in report.breakdown]
    for mine, theirs in zip(got.arrays, report.arrays, strict=True):
        assert mine.energy_wh == pytest.approx(theirs.energy_wh, rel=1e-9)
        assert mine.expected_wh == pytest.approx(theirs.expected_wh, rel=1e-6)
        assert mine.ratio == pytest.approx(theirs.ratio, rel=1e-6)
    assert [(c.sensor.id, c.readings) for c in got.completeness] == [
        (c.sensor.id, c.readings) for c in report.completeness]

