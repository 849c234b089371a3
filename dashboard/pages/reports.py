"""Reports (`/reports`): pick a site and a month or year; the report, its print view and CSV.

The report's text comes from `dashboard.reports.view`, the same as the printable document
(`/reports/<site>/<period>`), so the screen, the PDF and the CSV show the same figures.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from dash import Input, Output, State, dcc, html

from dashboard import i18n, ids, runtime
from dashboard.data.periods import EARLIEST_DAY, local_day
from dashboard.data.report import ReportPeriod, parse_period, site_report
from dashboard.data.source import DataSource
from dashboard.i18n import t
from dashboard.page import Page
from dashboard.reports.routes import report_href
from dashboard.reports.view import ReportView, Table, period_label, report_view
from dashboard.ui import alert_slot, aria, guarded, page_head

page = Page(__name__, path="/reports", name="Berichte", title="Stadtpuls – Berichte",
            order=5, nav_key="nav.reports")

MONTHS_OFFERED = 60
YEARS_OFFERED = 10


def _pv_sites(source: DataSource) -> list[str]:
    return [s for s, entry in source.catalogue.sites.items() if entry.pv_arrays]


def _today(source: DataSource, site: str | None) -> date:
    return local_day(source.now_ns(), source.zone(site or ""))


def period_options(today: date, kind: str, lang: str) -> list[dict[str, str]]:
    """Newest first: the last MONTHS_OFFERED months or YEARS_OFFERED years (bounded)."""
    periods: list[ReportPeriod] = []
    if kind == "year":
        periods = [ReportPeriod(today.year - i) for i in range(YEARS_OFFERED)]
    else:
        y, m = today.year, today.month
        for _ in range(MONTHS_OFFERED):
            periods.append(ReportPeriod(y, m))
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return [{"label": period_label(p.year, p.month, lang), "value": p.text}
            for p in periods if p.next_first_day > EARLIEST_DAY]


def _default_period(today: date) -> str:
    """The last whole month: what a monthly report is usually about."""
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return ReportPeriod(y, m).text


@page.layout
def layout(lang: str | None = None, site: str | None = None, period: str | None = None,
           **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    sites = _pv_sites(source)
    chosen = site if site in sites else (sites[0] if sites else None)
    today = _today(source, chosen)
    try:
        wanted = parse_period(period or "", today).text
    except ValueError:
        wanted = _default_period(today)
    kind = "month" if "-" in wanted else "year"
    controls = [
        html.Div([
            html.Label(t("report.site", lang), htmlFor=ids.REPORT_SITE, className="control-label"),
            dcc.Dropdown(id=ids.REPORT_SITE, value=chosen, clearable=False, searchable=False,
                         options=[{"label": source.catalogue.sites[s].name.get(lang), "value": s}
                                  for s in sites], className="site-picker"),
        ], className="control"),
        # A labelled dropdown like the other pickers: Dash's RadioItems nest the input in its
        # label, which axe reports as nested interactive controls without a name.
        html.Div([
            html.Label(t("report.kind", lang), htmlFor=ids.REPORT_KIND,
                       className="control-label"),
            dcc.Dropdown(id=ids.REPORT_KIND, value=kind, clearable=False, searchable=False,
                         options=[{"label": t("report.kind_month", lang), "value": "month"},
                                  {"label": t("report.kind_year", lang), "value": "year"}],
                         className="picker"),
        ], className="control"),
        html.Div([
            html.Label(t("report.period", lang), htmlFor=ids.REPORT_PERIOD,
                       className="control-label"),
            dcc.Dropdown(id=ids.REPORT_PERIOD, value=wanted, clearable=False,
                         options=period_options(today, kind, lang), className="picker"),
        ], className="control"),
    ]
    return html.Div([
        page_head(t("report.title", lang), t("report.intro", lang), *controls),
        alert_slot(ids.REPORT_ALERT),
        html.Div(id=ids.REPORT_LINKS, className="report-actions"),
        dcc.Loading(html.Div(id=ids.REPORT_BODY, className="report-body"), type="dot"),
    ])


@page.callback(
    Output(ids.REPORT_PERIOD, "options"),
    Output(ids.REPORT_PERIOD, "value"),
    Input(ids.REPORT_KIND, "value"),
    State(ids.REPORT_PERIOD, "value"),
    State(ids.REPORT_SITE, "value"),
    State(ids.LANG, "data"),
)
def choose_kind(kind: str | None, current: str | None, site: str | None,
                lang: str | None) -> tuple[list[dict[str, str]], str]:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    today = _today(source, site)
    kind = "year" if kind == "year" else "month"
    options = period_options(today, kind, lang)
    values = [o["value"] for o in options]
    if current in values:
        return options, current
    if current and kind == "year" and current[:4] in values:
        return options, current[:4]
    return options, _default_period(today) if kind == "month" else values[0]


@page.callback(
    Output(ids.REPORT_BODY, "children"),
    Output(ids.REPORT_LINKS, "children"),
    Output(ids.REPORT_ALERT, "children"),
    Input(ids.REPORT_SITE, "value"),
    Input(ids.REPORT_PERIOD, "value"),
    State(ids.LANG, "data"),
)
@guarded(2)
def show(site: str | None, period: str | None, lang: str | None) -> tuple[Any, Any]:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    if site not in _pv_sites(source) or site is None:
        return html.P(t("energy.no_pv", lang), className="muted"), None
    chosen = parse_period(period or "", _today(source, site))  # RangeRefused: guarded
    report = site_report(source, site, chosen)
    links = [
        html.A(t("report.print", lang), href=report_href(site, chosen, lang),
               target="_blank", rel="noopener", id="report-print", className="button-link"),
        html.A(t("report.csv", lang), href=report_href(site, chosen, lang, csv=True),
               id="report-csv", className="button-link", download=""),
    ]
    return render(report_view(source, report, lang), lang), links


def _table(table: Table) -> html.Div:
    return html.Div([
        html.Table([
            html.Caption(table.caption),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in table.head])),
            html.Tbody([html.Tr([html.Th(row, scope="row"),
                                 *[html.Td(c, className="num") for c in cells]])
                        for row, cells in table.rows]),
        ], className="table report-table"),
        html.P(table.note, className="footnote") if table.note else None,
        # Narrow screens scroll the table in this box: focusable and named, so the keyboard
        # can scroll it too (as ui.scroll_region).
    ], className="table-wrap card", id=f"report-{table.key}", tabIndex="0", role="region",
        **aria(label=table.caption))


# The narrow chart's screens: stadtpuls.css sizes it in the same media query.
NARROW = "(max-width: 720px)"


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def render(view: ReportView, lang: str) -> list[Any]:
    return [
        html.Section([
            html.H2(f"{view.site} · {view.period}", id="report-heading"),
            html.P(view.status, className="muted"),
            html.Dl([html.Div([html.Dt(label), html.Dd(value)], className="report-figure")
                     for label, value in view.figures], className="report-figures",
                    **aria(label=t("report.key_figures", lang))),
            html.Figure([
                html.Picture([
                    html.Source(srcSet=_svg_uri(view.chart_svg_narrow), media=NARROW),
                    html.Img(src=_svg_uri(view.chart_svg), alt=view.chart_title,
                             className="report-chart"),
                ]),
                html.Figcaption(view.chart_title, className="footnote"),
            ], className="report-figure-chart"),
        ], className="card"),
        *[_table(table) for table in view.tables],
        html.Ul([html.Li(n) for n in view.notes], className="footnote report-notes"),
    ]
