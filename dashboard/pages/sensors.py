"""Sensors (`/sensors`): every sensor in a sortable, filterable table, unregistered ones too."""

from __future__ import annotations

import re
from typing import Any

import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html

from dashboard import i18n, ids, runtime
from dashboard.data.sensor_table import Labels, order, page_of, select
from dashboard.data.source import DataSource
from dashboard.data.status import SEVERITY, SensorState, Status, sensor_states_shared
from dashboard.figures.theme import FONT
from dashboard.i18n import t
from dashboard.page import Page
from dashboard.ui import (
    STATUS_ICON,
    alert_slot,
    aria,
    guarded,
    page_head,
    sensor_href,
    sensor_name,
    site_name,
    tick,
    unit_of,
)

page = Page(__name__, path="/sensors", name="Sensoren", title="Stadtpuls – Sensoren",
            order=2, nav_key="nav.sensors")

_GRID_TEXT = ["contains", "notContains", "equals", "notEqual", "startsWith", "endsWith",
              "blank", "notBlank", "lessThan", "greaterThan", "lessThanOrEqual",
              "greaterThanOrEqual", "inRange", "filterOoo", "andCondition", "orCondition",
              "noRowsToShow", "applyFilter", "resetFilter", "clearFilter",
              # the pager: "Seite 1 von 1", "1 bis 42 von 42", its buttons' names
              "page", "to", "of", "more", "firstPage", "previousPage", "nextPage", "lastPage"]
_GRID_THEME = (
    "themeQuartz.withParams({fontFamily: 'inherit', fontSize: 15, headerFontWeight: 600, "
    "accentColor: '#0f6e8c', foregroundColor: '#1d2733', borderColor: '#dde3e9', "
    "headerBackgroundColor: '#f3f5f7', rowHoverColor: '#eef5f8', spacing: 7, "
    # Quartz's default padding (three spacings) cut site names, headers and even values
    # ("13,233.7 M…") of nine columns at 1400 px; 12 px still separates right-aligned figures.
    "cellHorizontalPadding: 12, wrapperBorderRadius: 10})"
)


PAGE_SIZE = 50
"""Rows per page: the browser holds one page (the grid asks the server for it)."""

# Refetch the visible page on every tick (rows keep their place) and start again from the
# first page when the pickers or the search change.
_REFRESH_JS = (
    "async function(tick, site, status, search) {"
    " const trigger = (dash_clientside.callback_context.triggered[0] || {}).prop_id || '';"
    f" const api = await dash_ag_grid.getApiAsync('{ids.SENSORS_GRID}');"
    f" if (trigger.startsWith('{ids.SENSORS_TICK}')) {{ api.refreshInfiniteCache(); }}"
    " else { api.purgeInfiniteCache(); }"
    " return tick || 0; }"
)


@page.layout
def layout(lang: str | None = None, site: str | None = None, status: str | None = None,
           **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    statuses = [s for s in SEVERITY]
    controls = [
        html.Label(dcc.Input(id=ids.SENSORS_SEARCH, type="search", debounce=0.3,
                             placeholder=t("sensors.search", lang), className="search"),
                   **aria(label=t("sensors.search", lang))),
        dcc.Dropdown(id=ids.SENSORS_SITE, value=site if site in source.catalogue.sites else None,
                     placeholder=t("sensors.all_sites", lang), className="picker",
                     options=[{"label": e.name.get(lang), "value": s}
                              for s, e in source.catalogue.sites.items()]),
        dcc.Dropdown(id=ids.SENSORS_STATUS, multi=True, className="picker picker-wide",
                     value=[status] if status in [s.value for s in statuses] else [],
                     placeholder=t("sensors.all_status", lang),
                     options=[{"label": t(f"status.{s.value}", lang), "value": s.value}
                              for s in statuses]),
    ]
    return html.Div([
        page_head(t("sensors.title", lang), t("sensors.intro", lang), *controls),
        alert_slot(ids.SENSORS_ALERT),
        html.P(id=ids.SENSORS_COUNT, className="muted table-count", role="status"),
        dag.AgGrid(
            id=ids.SENSORS_GRID,
            columnDefs=_columns(lang, device_values=_has_device_values(source)),
            rowModelType="infinite",
            getRowId="params.data.id",
            defaultColDef={"sortable": True, "resizable": True, "filter": True,
                           "floatingFilter": False, "minWidth": 110, "wrapHeaderText": True,
                           "autoHeaderHeight": True,
                           # Enter on a focused sensor link follows it (the grid would
                           # otherwise take the key for its own navigation).
                           "suppressKeyboardEvent": {"function": "params.event.key === "
                                                                 "'Enter' && params.event.target"
                                                                 ".tagName === 'A'"}},
            dashGridOptions={
                "theme": {"function": _GRID_THEME},
                "domLayout": "autoHeight",
                "pagination": True,
                "paginationPageSize": PAGE_SIZE,
                "paginationPageSizeSelector": False,
                "cacheBlockSize": PAGE_SIZE,
                "maxBlocksInCache": 4,
                "infiniteInitialRowCount": PAGE_SIZE,
                "localeText": {k: t(f"grid.{k}", lang) for k in _GRID_TEXT},
                "animateRows": False,
                "suppressCellFocus": True,
                "tooltipShowDelay": 300,
            },
            className="sensor-grid",
            style={"fontFamily": FONT},
        ),
        dcc.Store(id=ids.SENSORS_REFRESHED),
        html.P(t("status.help", lang), className="footnote"),
        tick(ids.SENSORS_TICK, source.settings),
    ])


def _has_device_values(source: DataSource) -> tuple[bool, bool]:
    """Whether to show the battery and RSSI columns: when the catalogue names LoRaWAN devices
    (the ones that report them). From the catalogue, not from the data: the layout must not
    wait for every sensor's state (half a second with 10,000 sensors, and Dash builds every
    page's layout once before the first page is served)."""
    has = any(sensor.device for _, sensor in source.catalogue.sensors())
    return has, has


def _columns(lang: str, device_values: tuple[bool, bool] = (True, True)
             ) -> list[dict[str, Any]]:
    def text_of(field: str) -> dict[str, str]:
        # Rows of a page still loading have no data yet.
        return {"function": f"params.data ? params.data.{field} : ''"}

    return [
        {"field": "status_label", "headerName": t("col.status", lang), "minWidth": 100,
         "flex": 0.7, "filter": False, "cellClassRules": {
             f"cell-status status-{s.value}":
                 f"!!params.data && params.data.status === '{s.value}'"
             for s in Status}, "comparator": {"function": "(a, b, na, nb) => "
                                              "na.data.status_rank - nb.data.status_rank"}},
        {"field": "name", "headerName": t("col.name", lang), "cellRenderer": "markdown",
         "minWidth": 280, "flex": 2.6, "filterValueGetter": text_of("name_text"),
         "tooltipValueGetter": text_of("sensor_id")},
        {"field": "site", "headerName": t("col.site", lang), "minWidth": 170, "flex": 1.5,
         "filter": False, "tooltipField": "site"},
        {"field": "quantity", "headerName": t("col.quantity", lang), "minWidth": 120,
         "flex": 1},
        {"field": "age_s", "headerName": t("col.last_seen", lang), "minWidth": 115, "flex": 0.9,
         "valueFormatter": text_of("last_seen"), "filter": "agNumberColumnFilter",
         "tooltipValueGetter": text_of("last_seen_time"), "sortingOrder": ["asc", "desc"]},
        {"field": "value", "headerName": t("col.value", lang), "minWidth": 140, "flex": 1.2,
         "type": "rightAligned", "sortable": False, "filter": False},
        {"field": "completeness", "headerName": t("col.completeness", lang), "minWidth": 155,
         "flex": 1.1,
         "valueFormatter": text_of("completeness_text"), "type": "rightAligned",
         "filter": "agNumberColumnFilter"},
        {"field": "battery", "headerName": t("col.battery", lang), "minWidth": 110,
         "flex": 0.8, "hide": not device_values[0],
         "valueFormatter": text_of("battery_text"), "type": "rightAligned",
         "filter": "agNumberColumnFilter"},
        {"field": "rssi", "headerName": t("col.rssi", lang), "minWidth": 100,
         "flex": 0.8, "hide": not device_values[1],
         "valueFormatter": text_of("rssi_text"), "type": "rightAligned",
         "filter": "agNumberColumnFilter"},
    ]


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def _md_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def rows(source: DataSource, states: list[SensorState], lang: str) -> list[dict[str, Any]]:
    out = []
    rank = {s: i for i, s in enumerate(SEVERITY)}
    for s in states:
        zone = source.zone(s.site)
        name = sensor_name(s.sensor, s.sensor_id, lang)
        unit = unit_of(s.quantity)
        value = (None if s.last is None
                 else i18n.fmt_reading(s.last.value, s.quantity.value, unit, lang))
        out.append({
            "id": f"{s.site}\x1f{s.sensor_id}\x1f{s.quantity.value}",
            "status": s.status.value,
            "status_rank": rank[s.status],
            "status_label": f"{STATUS_ICON[s.status]}  {t(f'status.{s.status.value}', lang)}",
            "name": f"[{_md_escape(name)}]({sensor_href(s)})",
            "name_text": name,
            "sensor_id": f"{s.site}/{s.sensor_id}",
            "site": site_name(source, s.site, lang),
            "quantity": t(f"quantity.{s.quantity.value}", lang),
            "age_s": s.age_s,
            "last_seen": i18n.fmt_relative(s.age_s, lang),
            "last_seen_time": i18n.fmt_time(s.last.time_ns if s.last else None, zone, lang,
                                            seconds=True),
            "value": value,
            "completeness": None if s.completeness is None else round(s.completeness * 100, 1),
            "completeness_text": i18n.fmt_percent(
                None if s.completeness is None else min(s.completeness, 1.0), lang),
            "battery": s.battery,
            "battery_text": i18n.fmt_value(s.battery, "%", lang, 0) if s.battery is not None
            else "",
            "rssi": s.rssi,
            "rssi_text": i18n.fmt_value(s.rssi, "dBm", lang, 0) if s.rssi is not None else "",
        })
    return out


def _labels(source: DataSource, lang: str) -> Labels:
    return Labels(name=lambda s: sensor_name(s.sensor, s.sensor_id, lang),
                  site=lambda s: site_name(source, s.site, lang),
                  quantity=lambda s: t(f"quantity.{s.quantity.value}", lang))


@page.callback(
    Output(ids.SENSORS_GRID, "getRowsResponse"),
    Output(ids.SENSORS_COUNT, "children"),
    Output(ids.SENSORS_ALERT, "children"),
    Input(ids.SENSORS_GRID, "getRowsRequest"),
    State(ids.SENSORS_SITE, "value"),
    State(ids.SENSORS_STATUS, "value"),
    State(ids.SENSORS_SEARCH, "value"),
    State(ids.LANG, "data"),
    # The grid asks for its first block once it is ready; a call at render time (no
    # request yet) would make it wait for an answer it throws away.
    prevent_initial_call=True,
)
@guarded(2)
def serve_rows(request: dict[str, Any] | None, site: str | None, statuses: list[str] | None,
               search: str | None, lang: str | None) -> tuple[dict[str, Any], str]:
    """One page of rows and the total, filtered and sorted on the server."""
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    request = request or {}
    labels = _labels(source, lang)
    chosen = select(sensor_states_shared(source), labels, site=site or None,
                    statuses=statuses or (), search=search or "",
                    filter_model=request.get("filterModel"))
    chosen = order(chosen, labels, request.get("sortModel"))
    page_rows = page_of(chosen, request.get("startRow", 0), request.get("endRow", PAGE_SIZE))
    return ({"rowData": rows(source, page_rows, lang), "rowCount": len(chosen)},
            t("sensors.count", lang, n=i18n.fmt_number(len(chosen), lang)))


page.clientside(
    _REFRESH_JS,
    Output(ids.SENSORS_REFRESHED, "data"),
    Input(ids.SENSORS_TICK, "n_intervals"),
    Input(ids.SENSORS_SITE, "value"),
    Input(ids.SENSORS_STATUS, "value"),
    Input(ids.SENSORS_SEARCH, "value"),
    prevent_initial_call=True,
)
