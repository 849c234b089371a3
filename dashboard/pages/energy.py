"""Energy (`/energy`): PV now and per period, shares, CO2 avoided, expected vs actual."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html

from dashboard import i18n, ids, runtime
from dashboard.data.energy import PERIOD_NAMES, Balance, SiteEnergy, site_energy
from dashboard.data.overview import live_values
from dashboard.data.performance import performance
from dashboard.data.source import DataSource
from dashboard.data.status import sensor_states
from dashboard.figures import described
from dashboard.figures import energy as figures
from dashboard.i18n import t
from dashboard.page import Page
from dashboard.ui import (
    alert_slot,
    chart_text,
    co2_factor_note,
    guarded,
    kpi,
    page_head,
    scroll_region,
    tick,
)

page = Page(__name__, path="/energy", name="Energie", title="Stadtpuls – Energie",
            order=1, nav_key="nav.energy")


def _pv_sites(source: DataSource) -> list[str]:
    return [s for s, entry in source.catalogue.sites.items() if entry.pv_arrays]


@page.layout
def layout(lang: str | None = None, site: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    sites = _pv_sites(source)
    chosen = site if site in sites else (sites[0] if sites else None)
    picker = dcc.Dropdown(
        id=ids.ENERGY_SITE, value=chosen, clearable=False, searchable=False,
        options=[{"label": source.catalogue.sites[s].name.get(lang), "value": s}
                 for s in sites], className="site-picker")
    return html.Div([
        page_head(t("energy.title", lang), t("energy.intro", lang),
                  picker if len(sites) > 1 else html.Div(picker, hidden=True)),
        alert_slot(ids.ENERGY_ALERT),
        html.Div(id=ids.ENERGY_BODY, className="energy-body"),
        tick(ids.ENERGY_TICK, source.settings),
    ])


@page.callback(
    Output(ids.ENERGY_BODY, "children"),
    Output(ids.ENERGY_ALERT, "children"),
    Input(ids.ENERGY_TICK, "n_intervals"),
    Input(ids.ENERGY_SITE, "value"),
    State(ids.LANG, "data"),
)
@guarded(1)
def refresh(_n: int | None, site: str | None, lang: str | None) -> Any:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    if site not in source.catalogue.sites:
        return html.P(t("energy.no_pv", lang), className="muted")
    states = sensor_states(source, site=site, with_completeness=False)
    energy = site_energy(source, site, live_values(states))
    return body(source, site, energy, lang)


def body(source: DataSource, site_id: str, energy: SiteEnergy, lang: str) -> list[Any]:
    site = source.catalogue.sites[site_id]
    zone = source.zone(site_id)
    perf = performance(source, site_id)
    peak = sum(a.peak_power_w for a in site.pv_arrays)
    today = energy.balances["today"]
    share = None if energy.pv_power_w is None else energy.pv_power_w / peak
    co2_note = co2_factor_note(source, lang)
    threshold = i18n.fmt_percent(source.settings.underperformance_ratio, lang)
    graph: Any = {"config": i18n.plotly_config(lang)}
    return [
        html.Div([
            kpi(t("energy.pv_now", lang), i18n.fmt_power(energy.pv_power_w, lang),
                t("energy.of_peak", lang, share=i18n.fmt_percent(share, lang),
                  peak=i18n.fmt_value(peak / 1000, "kWp", lang, 0)), big=True, tone="pv"),
            kpi(t("energy.consumption_now", lang),
                i18n.fmt_power(energy.consumption_power_w, lang), big=True),
            kpi(t("head.pv_today", lang), i18n.fmt_energy(today.pv_wh, lang), big=True),
            kpi(t("energy.self_sufficiency", lang) + " " + t("period.today", lang).lower(),
                i18n.fmt_percent(today.self_sufficiency, lang), big=True,
                help_text=t("energy.self_sufficiency_help", lang)),
            kpi(t("energy.co2", lang) + " " + t("period.today", lang).lower(),
                i18n.fmt_value(today.co2_avoided_kg, "kg", lang, 0), big=True,
                help_text=co2_note),
        ], className="kpi-row"),
        html.Div([
            html.Section([
                html.H2(t("energy.power_today", lang)),
                dcc.Graph(figure=figures.power_curves(perf, site, zone, lang),
                          id="energy-curves", **graph),
                *chart_text(described.power_text(perf, site, zone, lang), lang),
            ], className="card span-2"),
            html.Section([
                html.H2(t("energy.by_orientation", lang)),
                dcc.Graph(figure=figures.orientation_bars(energy.arrays, site, lang),
                          id="energy-orientation", **graph),
                *chart_text(described.orientation_text(energy.arrays, lang), lang),
            ], className="card"),
        ], className="grid-3"),
        html.Section([
            html.H2(t("energy.production", lang) + " · " + t("energy.consumption", lang)),
            _balance_table(energy.balances, lang),
            html.P(co2_note, className="footnote"),
        ], className="card"),
        html.Section([
            html.H2(t("energy.expected", lang)),
            html.P(t("energy.expected_help", lang, threshold=threshold), className="muted"),
            dcc.Graph(figure=figures.expected_vs_actual(perf, site, lang), id="energy-expected",
                      **graph),
            *chart_text(described.expected_text(perf, site, lang), lang),
        ], className="card"),
        html.Section([
            html.H2(t("energy.arrays", lang)),
            _array_table(energy, lang),
        ], className="card"),
    ]


def _balance_table(balances: dict[str, Balance], lang: str) -> html.Div:
    head = ["", "energy.production", "energy.consumption", "energy.grid",
            "energy.self_consumption", "energy.self_sufficiency", "energy.co2"]
    rows = []
    for period in PERIOD_NAMES:
        b = balances[period]
        grid = (f"{i18n.fmt_energy(b.import_wh, lang)} / {i18n.fmt_energy(b.export_wh, lang)}"
                if b.import_wh is not None or b.export_wh is not None else "–")
        rows.append(html.Tr([
            html.Th(t(f"period.{period}", lang), scope="row"),
            html.Td(i18n.fmt_energy(b.pv_wh, lang), className="num"),
            html.Td(i18n.fmt_energy(b.consumption_wh, lang), className="num"),
            html.Td(grid, className="num"),
            html.Td(i18n.fmt_percent(b.self_consumption, lang), className="num"),
            html.Td(i18n.fmt_percent(b.self_sufficiency, lang), className="num"),
            html.Td(i18n.fmt_co2(b.co2_avoided_kg, lang), className="num"),
        ]))
    return scroll_region(html.Table([
        html.Thead(html.Tr([html.Th(t(h, lang) if h else "", scope="col",
                                    title=t(f"{h}_help", lang) if h.endswith(
                                        ("self_consumption", "self_sufficiency")) else None)
                            for h in head])),
        html.Tbody(rows),
    ], className="table"), t("energy.production", lang) + " · "
        + t("energy.consumption", lang), id="energy-balance")


def _array_table(energy: SiteEnergy, lang: str) -> html.Div:
    head = ["col.array", "col.orientation", "col.peak", "col.power_now", "col.today",
            "col.yield_today", "col.yield_month", "col.yield_year"]
    rows = []
    for a in energy.arrays:
        source_note = t(f"energy.source_{a.source}", lang) if a.source else ""
        rows.append(html.Tr([
            html.Th(a.array.name.get(lang), scope="row"),
            html.Td(f"{t(f'kind.{a.array.kind}', lang)} "
                    f"{t(f'compass.{a.array.orientation}', lang)} · "
                    f"{i18n.fmt_number(a.array.tilt_deg, lang)}°"),
            html.Td(i18n.fmt_value(a.array.peak_power_w / 1000, "kWp", lang, 1), className="num"),
            html.Td(i18n.fmt_power(a.power_w, lang), className="num"),
            html.Td(i18n.fmt_energy(a.energy.today, lang), className="num",
                    title=source_note),
            html.Td(i18n.fmt_number(a.specific_yield("today"), lang, 2), className="num"),
            html.Td(i18n.fmt_number(a.specific_yield("month"), lang, 1), className="num"),
            html.Td(i18n.fmt_number(a.specific_yield("year"), lang,
                                    0 if (a.specific_yield("year") or 0) >= 100 else 1),
                    className="num"),
        ]))
    return scroll_region(html.Table([
        html.Thead(html.Tr([html.Th(t(h, lang), scope="col") for h in head])),
        html.Tbody(rows),
    ], className="table"), t("energy.arrays", lang), id="energy-arrays")
