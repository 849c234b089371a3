"""Overview (`/`): one card per site with live headline figures and sensor health."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, dcc, html, no_update

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
    chart_table,
    guarded,
    kpi,
    page_head,
    scroll_region,
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
        html.Div([site_card(source, site, lang) for site in source.catalogue.sites],
                 id=ids.OVERVIEW_CARDS, className="site-grid"),
        tick(ids.OVERVIEW_TICK, source.settings),
    ])


def _part(kind: str, site: str) -> dict[str, str]:
    return {"type": kind, "site": site}


def _all(kind: str) -> dict[str, Any]:
    return {"type": kind, "site": ALL}


# Each refresh changes values inside the cards, never the cards themselves: a focused link
# keeps its focus and an opened data table stays open (issue 14).
@page.callback(
    Output(_all(ids.OVERVIEW_TIME), "children"),
    Output(_all(ids.OVERVIEW_KPIS), "children"),
    Output(_all(ids.OVERVIEW_TREND_LABEL), "children"),
    Output(_all(ids.OVERVIEW_TREND), "figure"),
    Output(_all(ids.OVERVIEW_TREND_SUMMARY), "children"),
    Output(_all(ids.OVERVIEW_TREND_TABLE), "children"),
    Output(_all(ids.OVERVIEW_COUNT), "children"),
    Output(_all(ids.OVERVIEW_PILLS), "children"),
    Output(ids.OVERVIEW_ANNOUNCE, "children"),
    Output(ids.OVERVIEW_HEALTH, "data"),
    Output(ids.OVERVIEW_ALERT, "children"),
    Input(ids.OVERVIEW_TICK, "n_intervals"),
    State(_all(ids.OVERVIEW_TIME), "id"),
    State(ids.OVERVIEW_HEALTH, "data"),
    State(ids.LANG, "data"),
)
@guarded(10)
def refresh(_n: int | None, parts: list[dict[str, str]], before: dict[str, str] | None,
            lang: str | None) -> Any:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    found = {s.site_id: s for s in overview(source)}
    sites = [p["site"] for p in parts]
    columns: list[list[Any]] = [[] for _ in range(8)]
    for site in sites:
        values = _values(source, found.get(site), site, lang)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    health = {s.site_id: _health(source, s, lang) for s in found.values()}
    changed = [text for site, text in health.items()
               if before is not None and before.get(site) != text]
    # The first load announces nothing (the page says it all); later only what changed.
    announce = " · ".join(changed) if changed else no_update
    return (*columns, announce, health)


def _values(source: DataSource, summary: SiteSummary | None, site_id: str, lang: str
            ) -> tuple[Any, ...]:
    """One site's changing parts, in the order of `refresh`'s outputs."""
    site = source.catalogue.sites[site_id]
    zone = source.zone(site_id)
    clock = t("time.local", lang, time=i18n.fmt_time(source.now_ns(), zone, lang, date=False))
    if summary is None:
        return clock, [], "", {}, "", None, "", []
    names = {f"sensor:{s.id}": s.name.get(lang) for s in site.sensors}
    kpis = [_headline(h, lang) for h in summary.headlines]
    total = sum(summary.counts.values())
    pills = [status_pill(status, lang, count) for status, count in summary.counts.items()
             if count or status is Status.OK]
    count = t("overview.sensors", lang, n=total)
    if summary.trend is None:
        return clock, kpis, "", {}, "", None, count, pills
    label = t("overview.last_24h", lang) + (
        f" · {t(summary.trend.frame.columns[0], lang)}" if summary.trend.kind == "bars" else "")
    text = trend_text(summary.trend, zone, lang, names)
    return (clock, kpis, label, trend_figure(summary.trend, zone, lang, names), text.summary,
            chart_table(text), count, pills)


def _health(source: DataSource, summary: SiteSummary, lang: str) -> str:
    """"Rathaus: 40 OK, 1 stumm": a site's sensor health in words, for the live region."""
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


def site_card(source: DataSource, site_id: str, lang: str) -> html.Section:
    """A site's card with empty places for the values `refresh` fills in."""
    site = source.catalogue.sites[site_id]
    links = [dcc.Link(t("overview.to_sensors", lang),
                      href=f"/sensors?site={site_id}", className="card-link")]
    if site.pv_arrays:
        links.insert(0, dcc.Link(t("overview.to_energy", lang),
                                 href=f"/energy?site={site_id}", className="card-link"))
    return html.Section([
        html.Div([
            html.Div([
                html.H2(site.name.get(lang)),
                html.P(site.description.get(lang) if site.description else site.address,
                       className="muted"),
            ]),
            html.Div(id=_part(ids.OVERVIEW_TIME, site_id), className="card-time"),
        ], className="card-head"),
        html.Div(id=_part(ids.OVERVIEW_KPIS, site_id), className="kpi-grid"),
        html.Div([
            html.Div(id=_part(ids.OVERVIEW_TREND_LABEL, site_id), className="trend-label"),
            dcc.Graph(id=_part(ids.OVERVIEW_TREND, site_id), config=i18n.plotly_config(lang),
                      className="trend"),
            html.P(id=_part(ids.OVERVIEW_TREND_SUMMARY, site_id), className="chart-summary"),
            html.Details([
                html.Summary(t("chart.data", lang)),
                scroll_region(html.Div(id=_part(ids.OVERVIEW_TREND_TABLE, site_id)),
                              t("overview.last_24h", lang) + " · " + site.name.get(lang)),
            ], className="chart-data"),
        ], className="trend-block"),
        html.Div([
            html.Span(id=_part(ids.OVERVIEW_COUNT, site_id), className="card-count"),
            html.Div(id=_part(ids.OVERVIEW_PILLS, site_id), className="pill-row"),
        ], className="card-health"),
        html.Div(links, className="card-links"),
    ], className="card site-card", id=f"site-{site_id}")
