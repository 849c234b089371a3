"""Map (`/map`): sensors on a map, coloured by status; works without any map tiles."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html

from dashboard import i18n, ids, runtime
from dashboard.data.status import SEVERITY, SensorState, sensor_states
from dashboard.figures.described import map_text
from dashboard.figures.map import MapPoint, sensor_map
from dashboard.i18n import t
from dashboard.page import Page
from dashboard.ui import (
    STATUS_ICON,
    alert_slot,
    chart_text,
    guarded,
    page_head,
    sensor_name,
    tick,
)

page = Page(__name__, path="/map", name="Karte", title="Stadtpuls – Karte", order=3,
            nav_key="nav.map")


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
            note,
            html.Div(id=ids.MAP_TEXT),
        ], className="card"),
        tick(ids.MAP_TICK, source.settings),
    ])


def points(states: list[SensorState], lang: str) -> list[MapPoint]:
    """Catalogued sensors grouped by position (unregistered ones have no position)."""
    groups: dict[tuple[float, float], list[SensorState]] = {}
    for s in states:
        if s.sensor is not None:
            pos = s.sensor.position
            groups.setdefault((round(pos.lat, 6), round(pos.lon, 6)), []).append(s)
    rank = {status: i for i, status in enumerate(SEVERITY)}
    out = []
    for (lat, lon), members in groups.items():
        members.sort(key=lambda s: rank[s.status])
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


@page.callback(
    Output(ids.MAP_GRAPH, "figure"),
    Output(ids.MAP_TEXT, "children"),
    Output(ids.MAP_ALERT, "children"),
    Input(ids.MAP_TICK, "n_intervals"),
    Input(ids.MAP_SITE, "value"),
    State(ids.LANG, "data"),
)
@guarded(2)
def refresh(_n: int | None, site: str | None, lang: str | None) -> Any:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    states = sensor_states(source, site=site or None, with_completeness=False)
    places = points(states, lang)
    return (sensor_map(places, lang, source.settings.map_tiles),
            chart_text(map_text(places, lang), lang))
