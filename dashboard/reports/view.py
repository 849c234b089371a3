"""A report as formatted text: headings, key figures and tables, in one language.

Both renderings take this: the Dash page (`dashboard/pages/reports.py`) and the printable
document (`dashboard/reports/document.py`), so the screen and the PDF show the same text.
Numbers are formatted as on the energy page (`dashboard.i18n`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from dashboard import i18n
from dashboard.data.energy import Balance
from dashboard.data.periods import local_day
from dashboard.data.report import Report
from dashboard.data.source import DataSource
from dashboard.i18n import t
from dashboard.reports.chart import bars_svg
from dashboard.ui import co2_factor_note
from stadtpuls.timebase import NS_PER_S


@dataclass(frozen=True)
class Table:
    key: str
    """Stable id (HTML ids, tests)."""
    caption: str
    head: list[str]
    rows: list[tuple[str, list[str]]]
    """(row heading, cells)."""
    note: str | None = None


@dataclass(frozen=True)
class ReportView:
    title: str
    site: str
    period: str
    """"Oktober 2026" / "October 2026" / "2026"."""
    status: str
    """Covered span and generation time."""
    figures: list[tuple[str, str]]
    """Key figures: (label, value)."""
    tables: list[Table]
    notes: list[str]
    generated: str
    """"erstellt 02.04.2025, 10:00" / "generated 2 Apr 2025, 10:00"."""
    chart_title: str
    chart_svg: str
    """PV production per day or month (`chart.bars_svg`)."""
    chart_svg_narrow: str
    """The same chart shaped for narrow screens (larger type)."""


def period_label(year: int, month: int | None, lang: str) -> str:
    if month is None:
        return str(year)
    names = i18n.MONTHS_DE if lang == "de" else MONTHS_EN_LONG
    return f"{names[month - 1]} {year}"


MONTHS_EN_LONG = ["January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December"]


def _day(d: date, lang: str) -> str:
    return f"{d:%d.%m.}" if lang == "de" else f"{d.day} {i18n.MONTHS_EN[d.month - 1]}"


def _month_name(month: int, lang: str) -> str:
    return (i18n.MONTHS_DE if lang == "de" else MONTHS_EN_LONG)[month - 1]


def _date(d: date, lang: str) -> str:
    return f"{d:%d.%m.%Y}" if lang == "de" else f"{d.day} {i18n.MONTHS_EN[d.month - 1]} {d.year}"


def _yield(kwh_per_kwp: float | None, lang: str) -> str:
    if kwh_per_kwp is None:
        return "–"
    return i18n.fmt_number(kwh_per_kwp, lang, 0 if kwh_per_kwp >= 100 else 1)


def _balance_cells(b: Balance, lang: str) -> list[str]:
    return [i18n.fmt_energy(b.pv_wh, lang), i18n.fmt_energy(b.consumption_wh, lang),
            i18n.fmt_energy(b.import_wh, lang), i18n.fmt_energy(b.export_wh, lang),
            i18n.fmt_percent(b.self_consumption, lang), i18n.fmt_percent(b.self_sufficiency, lang),
            i18n.fmt_co2(b.co2_avoided_kg, lang)]


def report_view(source: DataSource, report: Report, lang: str) -> ReportView:
    site = source.catalogue.sites[report.site]
    zone = source.zone(report.site)
    period = period_label(report.period.year, report.period.month, lang)
    total = report.total
    pv_yield, exp_yield = report.specific_yield, report.expected_yield
    first = local_day(report.start_ns, zone)
    last = local_day(max(report.start_ns, report.covered_end_ns - NS_PER_S), zone)
    status = t("report.covered_running" if report.running else "report.covered", lang,
               start=_date(first, lang),
               end=(i18n.fmt_time(report.covered_end_ns, zone, lang) if report.running
                    else _date(last, lang)),
               generated=i18n.fmt_time(report.generated_ns, zone, lang))
    figures = [
        (t("energy.production", lang), i18n.fmt_energy(total.pv_wh, lang)),
        (t("report.specific_yield", lang), f"{_yield(pv_yield, lang)} kWh/kWp"
         if pv_yield is not None else "–"),
        (t("report.expected_yield", lang), f"{_yield(exp_yield, lang)} kWh/kWp"
         if exp_yield is not None else t("report.no_data", lang)),
        (t("energy.consumption", lang), i18n.fmt_energy(total.consumption_wh, lang)),
        (t("energy.self_consumption", lang), i18n.fmt_percent(total.self_consumption, lang)),
        (t("energy.self_sufficiency", lang), i18n.fmt_percent(total.self_sufficiency, lang)),
        (t("energy.co2", lang), i18n.fmt_co2(total.co2_avoided_kg, lang)),
        (t("report.days_with_data", lang),
         t("report.days_of", lang, n=report.days_with_data, of=report.days)),
    ]
    arrays_by_id = {a.id: a for a in site.pv_arrays}
    array_rows = []
    for line in report.arrays:
        array = arrays_by_id[line.array_id]
        array_rows.append((array.name.get(lang), [
            f"{t(f'kind.{array.kind}', lang)} {t(f'compass.{array.orientation}', lang)}",
            i18n.fmt_value(line.peak_w / 1000, "kWp", lang, 1),
            i18n.fmt_energy(line.energy_wh, lang),
            _yield(line.specific_yield, lang), _yield(line.expected_yield, lang),
            i18n.fmt_percent(line.ratio, lang)]))
    balance_head = [t("energy.production", lang), t("energy.consumption", lang),
                    t("report.import", lang), t("report.export", lang),
                    t("energy.self_consumption", lang), t("energy.self_sufficiency", lang),
                    t("energy.co2", lang)]
    monthly = report.period.month is None
    breakdown_rows = [(_month_name(d.month, lang) if monthly else _day(d, lang),
                       _balance_cells(b, lang)) for d, b in report.breakdown]
    earlier_rows = []
    for e in report.earlier:
        if e.balance.pv_wh is None and e.balance.consumption_wh is None:
            earlier_rows.append((str(e.year), [t("report.no_data", lang)] + [""] * 6))
            continue
        earlier_rows.append((str(e.year), [
            i18n.fmt_energy(e.balance.pv_wh, lang), _yield(e.specific_yield, lang),
            i18n.fmt_energy(e.balance.consumption_wh, lang),
            i18n.fmt_percent(e.balance.self_consumption, lang),
            i18n.fmt_percent(e.balance.self_sufficiency, lang),
            i18n.fmt_co2(e.balance.co2_avoided_kg, lang),
            t("report.days_of", lang, n=e.days_with_data, of=e.days)]))
    this_year = (str(report.period.year), [
        i18n.fmt_energy(total.pv_wh, lang), _yield(pv_yield, lang),
        i18n.fmt_energy(total.consumption_wh, lang),
        i18n.fmt_percent(total.self_consumption, lang),
        i18n.fmt_percent(total.self_sufficiency, lang), i18n.fmt_co2(total.co2_avoided_kg, lang),
        t("report.days_of", lang, n=report.days_with_data, of=report.days)])
    completeness_rows = [
        (c.sensor.name.get(lang), [i18n.fmt_number(c.readings, lang),
                                   i18n.fmt_number(c.expected, lang),
                                   i18n.fmt_percent(c.share, lang)])
        for c in report.completeness]
    tables = [
        Table("arrays", t("report.arrays_caption", lang, period=period),
              [t("col.array", lang), t("col.orientation", lang), t("col.peak", lang),
               t("report.energy", lang), t("report.yield_col", lang),
               t("report.expected_col", lang), t("energy.ratio", lang)], array_rows,
              t("report.model_note", lang)),
        Table("breakdown", t("report.by_month" if monthly else "report.by_day", lang,
                             period=period),
              [t("report.month" if monthly else "report.day", lang), *balance_head],
              breakdown_rows),
        Table("earlier", t("report.earlier_caption_to_date" if report.running
                           else "report.earlier_caption", lang, period=period),
              [t("report.year", lang), t("energy.production", lang),
               t("report.yield_col", lang), t("energy.consumption", lang),
               t("energy.self_consumption", lang), t("energy.self_sufficiency", lang),
               t("energy.co2", lang), t("report.days_with_data", lang)],
              [this_year, *earlier_rows]),
        Table("completeness", t("report.completeness_caption", lang),
              [t("col.name", lang), t("report.readings", lang), t("report.expected_readings",
                                                                  lang),
               t("report.completeness", lang)], completeness_rows,
              t("report.completeness_note", lang)),
    ]
    notes = [t("report.formulas", lang), co2_factor_note(source, lang)]
    if report.weather_share is not None and report.weather_share < 0.99:
        notes.append(t("report.weather_gaps", lang,
                       share=i18n.fmt_percent(report.weather_share, lang)))
    generated = t("report.generated", lang,
                  time=i18n.fmt_time(report.generated_ns, zone, lang))
    # `monthly`: a year report, whose rows are months
    chart_title = t("report.chart_months" if monthly else "report.chart_days", lang,
                    period=period)
    values = [None if b.pv_wh is None else b.pv_wh for _, b in report.breakdown]
    top = _nice_max(max((v for v in values if v is not None), default=0.0))
    labels = [_month_name(d.month, lang)[:3] if monthly else str(d.day)
              for d, _ in report.breakdown]
    top_label = i18n.fmt_energy(top, lang)
    return ReportView(t("report.title", lang), site.name.get(lang), period, status, figures,
                      tables, notes, generated, chart_title,
                      bars_svg(labels, values, top_label, chart_title, top),
                      bars_svg(labels, values, top_label, chart_title, top, narrow=True))


def _nice_max(value: float) -> float:
    """The next 1, 2, 2.5 or 5 × 10ⁿ at or above `value`: a round top for the chart."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= value)
