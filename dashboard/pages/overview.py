"""Overview (`/`): one card per site with live headline figures and sensor health."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html, no_update

from dashboard import i18n, ids, runtime
from dashboard.data.overview import Headline, SiteSummary, overview
from dashboard.data.source import DataSource
from dashboard.data.status import Status
from dashboard.figures.described import trend_text
from dashboard.figures.overview import trend_figure
from dashboard.i18n import t
from dashboard.page import Page
from dashboard.ui import (
    alert_slot,
    aria,
    chart_text,
    guarded,
    kpi,
    page_head,
    site_name,
    status_pill,
    tick,
)

page = Page(__name__, path="/", name="Übersicht", title="Stadtpuls – Übersicht",
            order=0, nav_key="nav.overview")


@page.layout
def layout(lang: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    return html.Div([
        page_head(t("overview.title", lang), t("overview.intro", lang)),
        alert_slot(ids.OVERVIEW_ALERT),
        # Said politely when a site's sensor health changes, not at every refresh.
        html.Div(id=ids.OVERVIEW_ANNOUNCE, role="status", className="sr-only",
                 **aria(live="polite")),
        dcc.Store(id=ids.OVERVIEW_HEALTH),
        html.Div(id=ids.OVERVIEW_CARDS, className="site-grid"),
        tick(ids.OVERVIEW_TICK, source.settings),
    ])


@page.callback(
    Output(ids.OVERVIEW_CARDS, "children"),
    Output(ids.OVERVIEW_ANNOUNCE, "children"),
    Output(ids.OVERVIEW_HEALTH, "data"),
    Output(ids.OVERVIEW_ALERT, "children"),
    Input(ids.OVERVIEW_TICK, "n_intervals"),
    State(ids.OVERVIEW_HEALTH, "data"),
    State(ids.LANG, "data"),
)
@guarded(3)
def refresh(_n: int | None, before: dict[str, str] | None, lang: str | None) -> Any:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    summaries = overview(source)
    health = {s.site_id: _health(s, lang) for s in summaries}
    changed = [text for site, text in health.items()
               if before is not None and before.get(site) != text]
    # The first load announces nothing (the page says it all); later only what changed.
    announce = " · ".join(changed) if changed else no_update
    return [site_card(source, summary, lang) for summary in summaries], announce, health


def _health(summary: SiteSummary, lang: str) -> str:
    """"Rathaus: 40 OK, 1 stumm": a site's sensor health in words, for the live region."""
    source = runtime.source()
    counts = ", ".join(f"{n} {t(f'status.{status.value}', lang)}"
                       for status, n in summary.counts.items() if n)
    return t("overview.announce", lang, site=site_name(source, summary.site_id, lang),
             statuses=counts)


def _headline(head: Headline, lang: str) -> html.Div:
    decimals = head.decimals
    if head.unit in ("kW", "kWh") and head.value is not None:
        decimals = 0 if abs(head.value) >= 100 else 1
    return kpi(t(f"head.{head.key}", lang), i18n.fmt_value(head.value, head.unit, lang,
                                                           decimals))


def site_card(source: DataSource, summary: SiteSummary, lang: str) -> html.Section:
    site = source.catalogue.sites[summary.site_id]
    zone = source.zone(summary.site_id)
    total = sum(summary.counts.values())
    names = {f"sensor:{s.id}": s.name.get(lang) for s in site.sensors}
    pills = [status_pill(status, lang, count) for status, count in summary.counts.items()
             if count or status is Status.OK]
    links = [dcc.Link(t("overview.to_sensors", lang),
                      href=f"/sensors?site={summary.site_id}", className="card-link")]
    if site.pv_arrays:
        links.insert(0, dcc.Link(t("overview.to_energy", lang),
                                 href=f"/energy?site={summary.site_id}", className="card-link"))
    return html.Section([
        html.Div([
            html.Div([
                html.H2(site.name.get(lang)),
                html.P(site.description.get(lang) if site.description else site.address,
                       className="muted"),
            ]),
            html.Div(t("time.local", lang, time=i18n.fmt_time(source.now_ns(), zone, lang,
                                                              date=False)),
                     className="card-time"),
        ], className="card-head"),
        html.Div([_headline(h, lang) for h in summary.headlines], className="kpi-grid"),
        html.Div([
            html.Div(t("overview.last_24h", lang) + (
                f" · {t(summary.trend.frame.columns[0], lang)}"
                if summary.trend.kind == "bars" else ""), className="trend-label"),
            dcc.Graph(figure=trend_figure(summary.trend, zone, lang, names),
                      config=i18n.plotly_config(lang), className="trend"),
            *chart_text(trend_text(summary.trend, zone, lang, names), lang),
        ]) if summary.trend is not None else None,
        html.Div([
            html.Span(t("overview.sensors", lang, n=total), className="card-count"),
            html.Div(pills, className="pill-row"),
        ], className="card-health"),
        html.Div(links, className="card-links"),
    ], className="card site-card", id=f"site-{summary.site_id}")
