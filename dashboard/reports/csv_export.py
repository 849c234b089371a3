"""A report as CSV: a commented header (site, period, generated, units, CO₂ factor and its
source), then one figure per line — section, item, figure, value, unit — which every
spreadsheet can filter and pivot. Values are unrounded enough to add up (kWh with three
decimals); an empty value means no data. German uses ';' and a decimal comma. UTF-8 with a
byte-order mark (read it with encoding "utf-8-sig")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from dashboard.data.energy import Balance
from dashboard.data.report import Report
from dashboard.data.source import DEFAULT_GRID_CO2_G_PER_KWH, DataSource
from stadtpuls.timebase import NS_PER_S

_Row = tuple[str, str, str, float | None, str]


def _balance_rows(section: str, item: str, b: Balance) -> Iterator[_Row]:
    for figure, wh in (("pv_production", b.pv_wh), ("consumption", b.consumption_wh),
                       ("grid_import", b.import_wh), ("grid_export", b.export_wh)):
        yield section, item, figure, None if wh is None else wh / 1000, "kWh"
    for figure, share in (("self_consumption", b.self_consumption),
                          ("self_sufficiency", b.self_sufficiency)):
        yield section, item, figure, None if share is None else share * 100, "%"
    yield section, item, "co2_avoided", b.co2_avoided_kg, "kg"


def rows(report: Report) -> Iterator[_Row]:
    yield from _balance_rows("total", report.period.text, report.total)
    yield "total", report.period.text, "specific_yield", report.specific_yield, "kWh/kWp"
    yield "total", report.period.text, "expected_yield", report.expected_yield, "kWh/kWp"
    yield "total", report.period.text, "days_with_meter_data", report.days_with_data, "days"
    yield "total", report.period.text, "days", report.days, "days"
    for a in report.arrays:
        yield "array", a.array_id, "peak_power", a.peak_w / 1000, "kWp"
        yield "array", a.array_id, "energy", None if a.energy_wh is None else a.energy_wh / 1000, \
            "kWh"
        yield "array", a.array_id, "specific_yield", a.specific_yield, "kWh/kWp"
        yield "array", a.array_id, "expected_yield", a.expected_yield, "kWh/kWp"
        yield "array", a.array_id, "actual_to_expected", \
            None if a.ratio is None else a.ratio * 100, "%"
    section = "month" if report.period.month is None else "day"
    for d, b in report.breakdown:
        yield from _balance_rows(section, d.isoformat()[:7] if section == "month"
                                 else d.isoformat(), b)
    for e in report.earlier:
        yield from _balance_rows("earlier_year", str(e.year), e.balance)
        yield "earlier_year", str(e.year), "specific_yield", e.specific_yield, "kWh/kWp"
        yield "earlier_year", str(e.year), "days_with_meter_data", e.days_with_data, "days"
    for c in report.completeness:
        yield "completeness", c.sensor.id, "readings", c.readings, "count"
        yield "completeness", c.sensor.id, "expected_readings", round(c.expected, 1), "count"
        yield "completeness", c.sensor.id, "completeness", \
            None if c.share is None else c.share * 100, "%"


def _number(value: float | None, decimal: str) -> str:
    if value is None:
        return ""
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}"
    return text.replace(".", decimal)


def to_csv(source: DataSource, report: Report, lang: str) -> str:
    decimal = "," if lang == "de" else "."
    sep = ";" if decimal == "," else ","
    zone = source.zone(report.site)
    site = source.catalogue.sites[report.site]
    factor = source.settings.grid_co2_g_per_kwh
    origin = ("Umweltbundesamt (UBA), CO2 emission factor of the German electricity mix 2024"
              if factor == DEFAULT_GRID_CO2_G_PER_KWH else "set by the operator")

    def iso(ns: int) -> str:
        return datetime.fromtimestamp(ns / NS_PER_S, tz=zone).isoformat(timespec="seconds")

    buffer = io.StringIO()
    # A byte-order mark: without it Excel reads UTF-8 as the local code page ("StÃ¼hlinger").
    buffer.write(f"\ufeff# Stadtpuls energy report\n# site: {report.site} ({site.name.get(lang)})\n"
                 f"# period: {report.period.text} ({iso(report.start_ns)} to "
                 f"{iso(report.covered_end_ns)}{', running' if report.running else ''})\n"
                 f"# generated: {iso(report.generated_ns)}\n"
                 "# units: energy kWh, specific yield kWh/kWp, shares %, CO2 avoided kg; "
                 "days in the site's time zone\n"
                 f"# CO2 factor: {factor:g} g/kWh ({origin})\n")
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(["section", "item", "figure", "value", "unit"])
    for section, item, figure, value, unit in rows(report):
        writer.writerow([section, item, figure, _number(value, decimal), unit])
    return buffer.getvalue()
