"""Map (`/map`): sensors on a map, coloured by status; works without any map tiles.

At city scale (thousands of sensors) places are grouped on the server into at most
`MAX_POINTS` points on a grid over the shown extent, each in the colour of its worst status
and sized by its number of sensors, so the browser gets a bounded figure whatever the city's
size (plotly's own `cluster` option on tile maps would group in the browser, after every
point had been sent). A table under the map counts every sensor per site and status.
"""

from __future__ import annotations

import math
from typing import Any

from dash import Input, Output, State, dcc, html

from dashboard import i18n, ids, runtime
from dashboard.data.source import DataSource
from dashboard.data.status import (
    SEVERITY,
    SensorState,
    Status,
    sensor_states_shared,
    states_by_site,
    status_counts,
)
from dashboard.figures.described import map_text
from dashboard.figures.map import MapPoint, sensor_map
from dashboard.i18n import t
from dashboard.page import Page
from dashboard.ui import (
    STATUS_ICON,
    alert_slot,
    aria,
    chart_text,
    guarded,
    page_head,
    sensor_name,
    site_name,
    tick,
)

page = Page(__name__, path="/map", name="Karte", title="Stadtpuls – Karte", order=3,
            nav_key="nav.map")

MAX_POINTS = 400
"""More places than this are grouped into grid cells (about 20 × 20 over the extent)."""
_RANK = {status: i for i, status in enumerate(SEVERITY)}


@page.layout
def layout(lang: str | None = None, site: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    picker = dcc.Dropdown(
        id=ids.MAP_SITE,
        value=site if site in source.catalogue.sites else next(iter(source.catalogue.sites)),
        placeholder=t("map.all_sites", lang), className="picker",
        options=[{"label": e.name.get(lang), "value": s}
                 for s, e in source.catalogue.sites.items()])
    note = None if source.settings.map_tiles else html.P(t("map.plain", lang),
                                                         className="footnote")
    return html.Div([
        page_head(t("map.title", lang), t("map.intro", lang), picker),
        alert_slot(ids.MAP_ALERT),
        html.Section([
            dcc.Graph(id=ids.MAP_GRAPH, config=i18n.plotly_config(lang)),
            html.P(id=ids.MAP_NOTE, className="footnote"),
            note,
            html.Div(id=ids.MAP_TEXT),
        ], className="card"),
        html.Section(id=ids.MAP_COUNTS, className="card"),
        tick(ids.MAP_TICK, source.settings),
    ])


def points(states: list[SensorState], lang: str) -> list[MapPoint]:
    """Catalogued sensors grouped by position (unregistered ones have no position)."""
    groups: dict[tuple[float, float], list[SensorState]] = {}
    for s in states:
        if s.sensor is not None:
            pos = s.sensor.position
            groups.setdefault((round(pos.lat, 6), round(pos.lon, 6)), []).append(s)
    out = []
    for (lat, lon), members in groups.items():
        members.sort(key=lambda s: _RANK[s.status])
        first = members[0].sensor
        place = (first.position.description if first and first.position.description
                 else sensor_name(first, members[0].sensor_id, lang))
        lines = [f"{STATUS_ICON[s.status]} {sensor_name(s.sensor, s.sensor_id, lang)}: "
                 f"{t(f'status.{s.status.value}', lang)}" for s in members]
        worst = sensor_name(members[0].sensor, members[0].sensor_id, lang)
        extra = sum(1 for s in members if s.status is members[0].status) - 1
        out.append(MapPoint(lat, lon, members[0].status, lines, place,
                            f"{worst} +{extra}" if extra else worst))
    return out


def clustered(states: list[SensorState], lang: str, max_points: int = MAX_POINTS
              ) -> tuple[list[MapPoint], int]:
    """(points, places): one per place, or grid cells when there are more than `max_points`
    places. A cell's hover lists its sensors per status, worst first."""
    placed = [s for s in states if s.sensor is not None]
    places = {(round(s.sensor.position.lat, 6), round(s.sensor.position.lon, 6))
              for s in placed if s.sensor is not None}
    if len(places) <= max_points:
        return points(states, lang), len(places)
    lats = [p[0] for p in places]
    lons = [p[1] for p in places]
    side = max(1, int(math.sqrt(max_points)))
    lat0, lon0 = min(lats), min(lons)
    dlat = (max(lats) - lat0) / side or 1.0
    dlon = (max(lons) - lon0) / side or 1.0
    cells: dict[tuple[int, int], list[SensorState]] = {}
    for s in placed:
        assert s.sensor is not None
        pos = s.sensor.position
        cell = (min(int((pos.lat - lat0) / dlat), side - 1),
                min(int((pos.lon - lon0) / dlon), side - 1))
        cells.setdefault(cell, []).append(s)
    out = []
    for members in cells.values():
        counts = status_counts(members)
        worst = min((s.status for s in members), key=_RANK.__getitem__)
        lines = [f"{STATUS_ICON[status]} {t(f'status.{status.value}', lang)}: "
                 f"{i18n.fmt_number(n, lang)}" for status, n in counts.items() if n]
        lat = sum(s.sensor.position.lat for s in members if s.sensor) / len(members)
        lon = sum(s.sensor.position.lon for s in members if s.sensor) / len(members)
        label = (f"{i18n.fmt_number(counts[worst], lang)} {t(f'status.{worst.value}', lang)}"
                 if worst is not Status.OK else "")
        out.append(MapPoint(lat, lon, worst, lines,
                            t("map.cluster_place", lang, n=i18n.fmt_number(len(members), lang)),
                            label, count=len(members)))
    return out, len(places)


def counts_table(source: DataSource, states: list[SensorState], lang: str) -> list[Any]:
    """Sensors per site and status, as a table (the numbers behind the map's colours)."""
    statuses = [s for s in SEVERITY if s is not Status.UNREGISTERED]
    by_site = states_by_site(states)
    head = html.Tr([html.Th(t("col.site", lang), scope="col"),
                    *(html.Th(f"{STATUS_ICON[s]} {t(f'status.{s.value}', lang)}", scope="col")
                      for s in statuses),
                    html.Th(t("map.total", lang), scope="col")])
    body = []
    for site in source.catalogue.sites:
        counts = status_counts(by_site.get(site, []))
        body.append(html.Tr([
            html.Th(site_name(source, site, lang), scope="row"),
            *(html.Td(i18n.fmt_number(counts[s], lang), className="num") for s in statuses),
            html.Td(i18n.fmt_number(sum(counts.values()), lang), className="num")]))
    return [html.H2(t("map.counts", lang)),
            html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="table",
                                **aria(label=t("map.counts", lang))),
                     className="table-wrap", tabIndex=0, role="region",
                     **aria(label=t("map.counts", lang)))]


@page.callback(
    Output(ids.MAP_GRAPH, "figure"),
    Output(ids.MAP_NOTE, "children"),
    Output(ids.MAP_COUNTS, "children"),
    Output(ids.MAP_TEXT, "children"),
    Output(ids.MAP_ALERT, "children"),
    Input(ids.MAP_TICK, "n_intervals"),
    Input(ids.MAP_SITE, "value"),
    State(ids.LANG, "data"),
)
@guarded(4)
def refresh(_n: int | None, site: str | None, lang: str | None) -> Any:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    every = sensor_states_shared(source)
    states = [s for s in every if s.site == site] if site else every
    shown, places = clustered(states, lang)
    note = (t("map.clustered", lang, n=i18n.fmt_number(sum(p.count for p in shown), lang),
              places=i18n.fmt_number(places, lang), points=i18n.fmt_number(len(shown), lang))
            if any(p.count for p in shown) else None)
    return (sensor_map(shown, lang, source.settings.map_tiles), note,
            counts_table(source, every, lang), chart_text(map_text(shown, lang), lang))
