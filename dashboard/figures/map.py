"""Sensor map: one marker per position, coloured and shaped by the worst status there.

Without a tile URL the map is a plain scatter of longitude/latitude with equal scale (an
east-west degree drawn cos(latitude) as long as a north-south one) and a scale bar: it needs
no network and no WebGL, so it works offline, on old kiosk hardware and in headless
browsers. With `--map-tiles URL` it becomes a MapLibre map with that raster layer; if the
tiles cannot be loaded, the points still show on a white background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard.data.status import SEVERITY, Status
from dashboard.figures import theme
from dashboard.i18n import t

_EARTH_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class MapPoint:
    lat: float
    lon: float
    status: Status
    """Worst status of the sensors here."""
    lines: list[str]
    """One hover line per sensor: name and status."""
    place: str
    label: str
    """Name of the worst sensor here, for the marker's label."""
    count: int = 0
    """Sensors this point stands for when it groups several places (0: one place)."""


def _size(p: MapPoint) -> float:
    if p.count:
        # A group: area grows with the number of sensors, bounded for a city of thousands.
        return min(14 + 4 * math.log2(p.count), 50)
    return 14 + min(len(p.lines), 6) * 2


def _nice_length(metres: float) -> float:
    for step in (1, 2, 5):
        for power in range(0, 6):
            value = step * 10 ** power
            if value >= metres:
                return float(value)
    return metres


def _by_status(points: list[MapPoint]) -> list[tuple[Status, list[MapPoint]]]:
    return [(s, [p for p in points if p.status is s]) for s in SEVERITY
            if any(p.status is s for p in points)]


def _hover(p: MapPoint) -> str:
    return "<b>" + p.place + "</b><br>" + "<br>".join(p.lines[:12]) + (
        f"<br>… +{len(p.lines) - 12}" if len(p.lines) > 12 else "")


def sensor_map(points: list[MapPoint], lang: str, tiles: str | None = None) -> go.Figure:
    if not points:
        return theme.empty_figure(t("detail.no_data", lang), lang, height=560)
    if tiles:
        return _tile_map(points, lang, tiles)
    lat0 = sum(p.lat for p in points) / len(points)
    # Only points that need attention are labelled (with the sensor at fault): labels for
    # every point would pile up where one building has a dozen sensors.
    fig = go.Figure()
    for status, group in _by_status(points):
        fig.add_trace(go.Scatter(
            x=[p.lon for p in group], y=[p.lat for p in group],
            mode="markers" if status is Status.OK else "markers+text",
            text=[p.label for p in group], textposition="top right",
            textfont={"size": 13, "color": theme.STATUS_COLOUR[status]},
            name=t(f"status.{status.value}", lang),
            marker={"size": [_size(p) for p in group],
                    "color": theme.STATUS_COLOUR[status], "symbol": theme.STATUS_SYMBOL[status],
                    "line": {"color": "white", "width": 1.5}, "opacity": 0.92},
            hovertext=[_hover(p) for p in group], hoverinfo="text"))
    lons = [p.lon for p in points]
    lats = [p.lat for p in points]
    scale = math.cos(math.radians(lat0))
    pad_lat = max((max(lats) - min(lats)) * 0.12, 0.0004)
    pad_lon = max((max(lons) - min(lons)) * 0.12, 0.0004 / scale)
    width_m = (max(lons) - min(lons) + 2 * pad_lon) * _EARTH_M_PER_DEG * scale
    bar_m = _nice_length(width_m / 6)
    bar_deg = bar_m / (_EARTH_M_PER_DEG * scale)
    x0, y0 = min(lons) - pad_lon * 0.6, min(lats) - pad_lat * 0.6
    fig.add_shape(type="line", x0=x0, x1=x0 + bar_deg, y0=y0, y1=y0,
                  line={"color": theme.INK, "width": 3})
    label = f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m:g} m"
    fig.add_annotation(x=x0 + bar_deg / 2, y=y0, text=label, showarrow=False, yshift=12,
                       font={"size": 13, "color": theme.INK})
    fig.update_layout(**theme.base_layout(lang, height=600))
    fig.update_layout(margin={"l": 16, "r": 16, "t": 40, "b": 16}, dragmode="pan",
                      plot_bgcolor="#f7f9fb")
    fig.update_xaxes(range=[min(lons) - pad_lon, max(lons) + pad_lon], showticklabels=False,
                     scaleanchor="y", scaleratio=scale,
                     gridcolor="#e9edf1", title_text=None, zeroline=False)
    fig.update_yaxes(range=[min(lats) - pad_lat, max(lats) + pad_lat], showticklabels=False,
                     gridcolor="#e9edf1", rangemode="normal", zeroline=False)
    return fig


def _tile_map(points: list[MapPoint], lang: str, tiles: str) -> go.Figure:
    fig = go.Figure()
    for status, group in _by_status(points):
        fig.add_trace(go.Scattermap(
            lat=[p.lat for p in group], lon=[p.lon for p in group], mode="markers",
            name=t(f"status.{status.value}", lang),
            marker={"size": [_size(p) for p in group],
                    "color": theme.STATUS_COLOUR[status]},
            hovertext=[_hover(p) for p in group], hoverinfo="text"))
    lat = sum(p.lat for p in points) / len(points)
    lon = sum(p.lon for p in points) / len(points)
    span = max(max(p.lat for p in points) - min(p.lat for p in points),
               max(p.lon for p in points) - min(p.lon for p in points), 0.001)
    zoom = max(1.0, min(18.0, math.log2(360 / span) - 0.5))
    fig.update_layout(**theme.base_layout(lang, height=600))
    fig.update_layout(margin={"l": 0, "r": 0, "t": 40, "b": 0}, map={
        "style": "white-bg", "center": {"lat": lat, "lon": lon}, "zoom": zoom,
        "layers": [{"sourcetype": "raster", "source": [tiles], "below": "traces"}]})
    return fig
