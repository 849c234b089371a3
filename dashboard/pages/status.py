"""Pipeline (`/status`): ingest throughput, rejections, spool, broker and store reachability."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html

from dashboard import i18n, ids, runtime
from dashboard.data.pipeline import ClientHealth, pipeline
from dashboard.figures.described import rates_text
from dashboard.figures.pipeline import rates_figure
from dashboard.i18n import t
from dashboard.kiosk import routes as kiosk_routes
from dashboard.kiosk.status_section import screens_section
from dashboard.page import Page
from dashboard.ui import alert_slot, chart_text, guarded, kpi, page_head, tick
from stadtpuls.pipeline import PipelineFigure

page = Page(__name__, path="/status", name="Pipeline", title="Stadtpuls – Pipeline",
            order=4, nav_key="nav.status")


@page.layout
def layout(lang: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    return html.Div([
        page_head(t("pipeline.title", lang), t("pipeline.intro", lang)),
        alert_slot(ids.STATUS_ALERT),
        html.Div(id=ids.STATUS_BODY),
        html.Section([
            html.H2(t("pipeline.last_hour", lang)),
            dcc.Graph(id=ids.STATUS_GRAPH, config=i18n.plotly_config(lang)),
            html.Div(id=ids.STATUS_TEXT),
        ], className="card"),
        html.Div(id=ids.STATUS_SCREENS),
        tick(ids.STATUS_TICK, source.settings),
    ])


def _flag(value: bool | None, yes: str, no: str, lang: str) -> tuple[str, str | None]:
    if value is None:
        return t("pipeline.unknown", lang), None
    return (t(yes, lang), "ok") if value else (t(no, lang), "bad")


def client_card(client: ClientHealth, now_ns: int, lang: str) -> html.Section:
    age = None if client.last_report_ns is None else (now_ns - client.last_report_ns) / 1e9
    state = t("pipeline.reporting" if client.reporting else "pipeline.not_reporting", lang,
              age=i18n.fmt_relative(age, lang))
    broker, broker_tone = _flag(client.broker_connected, "pipeline.connected",
                                "pipeline.disconnected", lang)
    store, store_tone = _flag(client.store_ok, "pipeline.reachable", "pipeline.unreachable",
                              lang)

    def rate(metric: PipelineFigure) -> str:
        return i18n.fmt_number(client.rates.get(metric), lang, 1)

    def total(metric: PipelineFigure) -> str:
        return i18n.fmt_number(client.totals.get(metric), lang)

    rejected = client.rates.get(PipelineFigure.MESSAGES_REJECTED)
    spool = client.spool_depth
    newest = client.newest_reading_age_s
    return html.Section([
        html.Div([
            html.H2(t("pipeline.client", lang, client=client.label)),
            html.Span(state, className="pill pill-ok" if client.reporting
                      else "pill pill-silent"),
        ], className="card-head"),
        html.Div([
            kpi(t("pipeline.messages", lang), rate(PipelineFigure.MESSAGES_ACCEPTED), big=True),
            kpi(t("pipeline.readings", lang), rate(PipelineFigure.READINGS_WRITTEN), big=True),
            kpi(t("pipeline.rejected", lang), rate(PipelineFigure.MESSAGES_REJECTED), big=True,
                tone="bad" if rejected else None),
            kpi(t("pipeline.spool", lang), i18n.fmt_number(spool, lang), big=True,
                tone="warn" if spool else None),
            kpi(t("pipeline.newest_age", lang),
                "–" if newest is None else i18n.fmt_value(newest, "s", lang, 0), big=True,
                tone="warn" if newest is not None and newest > 120 else None),
            kpi(t("pipeline.broker", lang), broker, big=True, tone=broker_tone),
            kpi(t("pipeline.store", lang), store, big=True, tone=store_tone),
        ], className="kpi-row"),
        html.P(t("pipeline.totals", lang, accepted=total(PipelineFigure.MESSAGES_ACCEPTED),
                 written=total(PipelineFigure.READINGS_WRITTEN),
                 rejected=total(PipelineFigure.MESSAGES_REJECTED),
                 unregistered=total(PipelineFigure.READINGS_UNREGISTERED),
                 implausible=total(PipelineFigure.READINGS_IMPLAUSIBLE)), className="footnote"),
    ], className="card", id=f"ingest-{client.label}")


@page.callback(
    Output(ids.STATUS_BODY, "children"),
    Output(ids.STATUS_GRAPH, "figure"),
    Output(ids.STATUS_TEXT, "children"),
    Output(ids.STATUS_ALERT, "children"),
    Input(ids.STATUS_TICK, "n_intervals"),
    State(ids.LANG, "data"),
)
@guarded(3)
def refresh(_n: int | None, lang: str | None) -> Any:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    view = pipeline(source)
    zone = source.zone(next(iter(source.catalogue.sites)))
    if not view.clients:
        body: Any = html.Div(t("pipeline.none", lang), className="alert alert-info")
    else:
        body = [client_card(c, source.now_ns(), lang) for c in view.clients]
    return (body, rates_figure(view.rates, zone, lang),
            chart_text(rates_text(view.rates, zone, lang), lang))


# Lobby screens (dashboard/kiosk): their heartbeats, from this server's memory.
@page.callback(Output(ids.STATUS_SCREENS, "children"), Input(ids.STATUS_TICK, "n_intervals"),
               State(ids.LANG, "data"))
def screens(_n: int | None, lang: str | None) -> Any:
    return screens_section(runtime.source(), kiosk_routes.registry().contacts(),
                           kiosk_routes.version(), i18n.lang_or_default(lang))
