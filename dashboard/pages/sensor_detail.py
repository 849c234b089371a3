"""Sensor detail (`/sensors/<sensor_id>`): history, quick and custom ranges, CSV download.

`sensor_id` is `site~sensor` (catalogued) or `site~sensor~quantity` (unregistered), each part
percent-encoded (see `ui.sensor_token`), so any id the store holds has a working URL.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from dashboard import i18n, ids, runtime
from dashboard.data.history import QUICK_RANGES_S, History, history, quick_range, to_csv
from dashboard.data.periods import EARLIEST_DAY, RangeRefused, custom_range_ns, local_day
from dashboard.data.source import DataSource
from dashboard.data.status import latest_readings, sensor_states
from dashboard.figures.described import history_text
from dashboard.figures.history import history_figure
from dashboard.i18n import t
from dashboard.page import Page
from dashboard.ui import (
    alert_slot,
    aria,
    chart_text,
    guarded,
    parse_sensor_token,
    sensor_name,
    sensor_token,
    site_name,
    status_pill,
    tick,
    unit_of,
)
from stadtpuls.catalogue import Sensor
from stadtpuls.reading import SeriesKey
from stadtpuls.units import Quantity

page = Page(__name__, path_template="/sensors/<sensor_id>", name="Sensor",
            title_key="nav.sensor_detail", order=10)

_DEFAULT_RANGE = "24h"
_UNREGISTERED_INTERVAL_S = 60.0


def _resolve(source: DataSource, token: str | None
             ) -> tuple[SeriesKey, Sensor | None] | None:
    parsed = parse_sensor_token(token or "")
    if parsed is None:
        return None
    site, sensor_id, quantity = parsed
    sensor = source.catalogue.sensor(site, sensor_id)
    if sensor is not None and quantity in (None, sensor.quantity.value):
        return SeriesKey(site, sensor_id, sensor.quantity), sensor
    if quantity is not None:
        try:
            return SeriesKey(site, sensor_id, Quantity(quantity)), None
        except ValueError:
            return None
    found = [k for k in latest_readings(source) if (k.site, k.sensor) == (site, sensor_id)]
    return (found[0], None) if found else None


@page.layout
def layout(sensor_id: str | None = None, lang: str | None = None, range: str | None = None,
           **_: Any) -> html.Div:
    """`?range=7d` (any quick range) opens the page on that range."""
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    back = dcc.Link(t("detail.back", lang), href="/sensors", className="back-link")
    if sensor_id is None:
        # Dash's callback validation calls every layout without arguments: show it every
        # component the callbacks of this page use.
        return html.Div([back, *_body(source, lang, None, None, None)], className="detail")
    resolved = _resolve(source, sensor_id)
    if resolved is None:
        return html.Div([back, html.H1(t("detail.unknown", lang, id=unquote(sensor_id)))],
                        className="detail")
    key, sensor = resolved
    return html.Div([back, *_body(source, lang, key, sensor, range)], className="detail")


def _body(source: DataSource, lang: str, key: SeriesKey | None, sensor: Sensor | None,
          initial: str | None) -> list[Any]:
    site = key.site if key else next(iter(source.catalogue.sites))
    zone = source.zone(site)
    today = datetime.fromtimestamp(source.clock(), tz=zone).date()
    subtitle = [site_name(source, site, lang)]
    if key is not None:
        subtitle.append(t(f"quantity.{key.quantity.value}", lang))
    if sensor is not None and sensor.position.description:
        subtitle.append(sensor.position.description)
    token = None if key is None else sensor_token(
        key.site, key.sensor, None if sensor else key.quantity.value)
    return [
        html.Div([
            html.Div([
                html.H1(sensor_name(sensor, key.sensor if key else "", lang)),
                html.P(" · ".join(subtitle), className="muted"),
                html.P(t("detail.unregistered", lang), className="note")
                if sensor is None and key is not None else None,
            ], className="page-title"),
            html.Div(id=ids.DETAIL_HEADER, className="detail-status"),
        ], className="page-head"),
        alert_slot(ids.DETAIL_ALERT),
        html.Div([
            _range_buttons(lang, initial if initial in QUICK_RANGES_S else _DEFAULT_RANGE),
            dcc.DatePickerRange(
                id=ids.DETAIL_DATES, start_date=(today - timedelta(days=7)).isoformat(),
                end_date=today.isoformat(), max_date_allowed=today.isoformat(),
                min_date_allowed=EARLIEST_DAY.isoformat(), first_day_of_week=1,
                display_format="DD.MM.YYYY" if lang == "de" else "D MMM YYYY",
                className="date-range"),
            html.Button(t("detail.download", lang), id=ids.DETAIL_DOWNLOAD_BUTTON,
                        className="button"),
            dcc.Download(id=ids.DETAIL_DOWNLOAD),
        ], className="toolbar"),
        html.Section([
            dcc.Graph(id=ids.DETAIL_GRAPH, config=i18n.plotly_config(lang)),
            html.P(id=ids.DETAIL_INFO, className="muted graph-info"),
            html.Div(id=ids.DETAIL_TEXT),
        ], className="card"),
        dcc.Store(id=ids.DETAIL_ID, data=token),
        tick(ids.DETAIL_TICK, source.settings),
    ]


def _range_buttons(lang: str, chosen: str) -> html.Div:
    """The time ranges as toggle buttons in a named group: each one a Tab stop that Enter or
    Space selects, and says whether it is the chosen one (aria-pressed)."""
    def button(name: str) -> html.Button:
        attributes: Any = {"data-range": name,
                           **aria(pressed="true" if name == chosen else "false")}
        return html.Button(t(f"range.{name}", lang),
                           id={"type": ids.DETAIL_RANGE_OPTION, "range": name}, n_clicks=0,
                           type="button", className=_range_class(name == chosen), **attributes)

    buttons = [button(name) for name in (*QUICK_RANGES_S, "custom")]
    return html.Div([html.Div(buttons, className="segmented", role="group", id=ids.DETAIL_RANGES,
                              **aria(label=t("detail.range", lang))),
                     dcc.Store(id=ids.DETAIL_RANGE, data=chosen)])


def _range_class(chosen: bool) -> str:
    return "range-option selected" if chosen else "range-option"


@page.callback(Output(ids.DETAIL_RANGE, "data"),
               Input({"type": ids.DETAIL_RANGE_OPTION, "range": ALL}, "n_clicks"),
               prevent_initial_call=True)
def choose_range(clicks: list[int | None]) -> Any:
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks):
        return no_update
    return trigger["range"]


@page.callback(Output({"type": ids.DETAIL_RANGE_OPTION, "range": ALL}, "aria-pressed"),
               Output({"type": ids.DETAIL_RANGE_OPTION, "range": ALL}, "className"),
               Input(ids.DETAIL_RANGE, "data"),
               State({"type": ids.DETAIL_RANGE_OPTION, "range": ALL}, "id"))
def show_range(chosen: str | None, options: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    return ([str(o["range"] == chosen).lower() for o in options],
            [_range_class(o["range"] == chosen) for o in options])


def _range(source: DataSource, key: SeriesKey, interval_s: float, choice: str | None,
           start_date: str | None, end_date: str | None) -> tuple[int, int]:
    if choice == "custom" and start_date and end_date:
        zone = source.zone(key.site)
        today = local_day(source.now_ns(), zone)
        return custom_range_ns(str(start_date), str(end_date), today, zone)
    name = choice if choice in QUICK_RANGES_S else _DEFAULT_RANGE
    return quick_range(source, name, interval_s)


def _load(source: DataSource, token: str | None, choice: str | None, start_date: str | None,
          end_date: str | None) -> tuple[History, Sensor | None] | None:
    resolved = _resolve(source, token)
    if resolved is None:
        return None
    key, sensor = resolved
    interval = sensor.interval_s if sensor else _UNREGISTERED_INTERVAL_S
    start, end = _range(source, key, interval, choice, start_date, end_date)
    return history(source, key, start, end, interval, source.zone(key.site)), sensor


@page.callback(
    Output(ids.DETAIL_GRAPH, "figure"),
    Output(ids.DETAIL_INFO, "children"),
    Output(ids.DETAIL_HEADER, "children"),
    Output(ids.DETAIL_TEXT, "children"),
    Output(ids.DETAIL_ALERT, "children"),
    Input(ids.DETAIL_TICK, "n_intervals"),
    Input(ids.DETAIL_RANGE, "data"),
    Input(ids.DETAIL_DATES, "start_date"),
    Input(ids.DETAIL_DATES, "end_date"),
    State(ids.DETAIL_ID, "data"),
    State(ids.LANG, "data"),
)
@guarded(4)
def refresh(_n: int | None, choice: str | None, start_date: str | None, end_date: str | None,
            token: str | None, lang: str | None) -> Any:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    loaded = _load(source, token, choice, start_date, end_date)
    if loaded is None:
        return no_update, no_update, no_update, no_update
    hist, sensor = loaded
    key = hist.key
    zone = source.zone(key.site)
    unit = unit_of(key.quantity)
    interval = sensor.interval_s if sensor else _UNREGISTERED_INTERVAL_S
    fig = history_figure(hist, unit, sensor.thresholds if sensor else None, zone, lang,
                         interval_s=interval)
    frame = hist.frame.dropna(subset=["mean"])
    info: list[Any] = []
    if len(frame):
        window = t(f"window.{hist.window_s}", lang)
        info.append(t("detail.window", lang, n=i18n.fmt_number(len(frame), lang),
                      window=window) if hist.window_s > interval * 1.5
                    else t("detail.raw", lang, n=i18n.fmt_number(len(frame), lang)))
        if hist.hidden:
            info.append(t("detail.hidden", lang, n=i18n.fmt_number(hist.hidden, lang)))
        for label, value in (("detail.stat_min", frame["min"].min()),
                             ("detail.stat_mean", frame["mean"].mean()),
                             ("detail.stat_max", frame["max"].max())):
            info.append(f"{t(label, lang)} {i18n.fmt_value(float(value), unit, lang)}")
    state = next((s for s in sensor_states(source, site=key.site, with_completeness=False)
                  if s.key == key), None)
    header: list[Any] = []
    if state is not None:
        header = [
            status_pill(state.status, lang),
            html.Div(i18n.fmt_value(state.last.value, unit, lang) if state.last else "–",
                     className="detail-value"),
            html.Div(f"{i18n.fmt_relative(state.age_s, lang)} · "
                     f"{i18n.fmt_time(state.last.time_ns if state.last else None, zone, lang)}",
                     className="muted"),
        ]
        if sensor is not None:
            header.append(html.Div(t("detail.interval", lang,
                                     value=_duration(sensor.interval_s, lang)),
                                   className="muted"))
    text = history_text(hist, sensor_name(sensor, key.sensor, lang), unit, zone, lang)
    return fig, " · ".join(info), header, chart_text(text, lang)


def _duration(seconds: float, lang: str) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} {'Std.' if lang == 'de' else 'h'}"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{i18n.fmt_number(seconds, lang)} s"


@page.callback(
    Output(ids.DETAIL_DOWNLOAD, "data"),
    Input(ids.DETAIL_DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.DETAIL_RANGE, "data"),
    State(ids.DETAIL_DATES, "start_date"),
    State(ids.DETAIL_DATES, "end_date"),
    State(ids.DETAIL_ID, "data"),
    State(ids.LANG, "data"),
    prevent_initial_call=True,
)
def download(_clicks: int | None, choice: str | None, start_date: str | None,
             end_date: str | None, token: str | None, lang: str | None) -> Any:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    try:
        loaded = _load(source, token, choice, start_date, end_date)
    except RangeRefused:
        return no_update  # the chart's callback shows why
    if loaded is None:
        return no_update
    hist, _ = loaded
    zone = source.zone(hist.key.site)
    first = datetime.fromtimestamp(hist.start_ns / 1e9, tz=zone)
    last = datetime.fromtimestamp(hist.end_ns / 1e9, tz=zone)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{hist.key.site}_{hist.key.sensor}")
    name = f"{stem}_{first:%Y%m%d-%H%M}_{last:%Y%m%d-%H%M}.csv"
    csv = to_csv(hist, unit_of(hist.key.quantity) or "count",
                 decimal="," if lang == "de" else ".")
    return {"content": csv, "filename": name, "type": "text/csv"}
