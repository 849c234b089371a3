"""Energy page charts: power over the last 24 h, power by orientation, expected vs actual."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from dashboard import i18n
from dashboard.data.energy import ArrayEnergy
from dashboard.data.performance import Performance
from dashboard.figures import theme
from dashboard.i18n import t
from stadtpuls.catalogue import PVArray, Site

KIND_COLOUR = {"roof": "#E69F00", "facade": "#56B4E9"}


def power_curves(perf: Performance, site: Site, zone: ZoneInfo, lang: str) -> go.Figure:
    """PV power stacked by mounting (roof, façade) and consumption, in kW."""
    frame = perf.frame
    if frame.empty:
        return theme.empty_figure(t("detail.no_data", lang), lang)
    x = pd.DatetimeIndex(frame.index).tz_convert(zone)
    fig = go.Figure()
    for kind in ("roof", "facade"):
        cols = [f"actual:{a.id}" for a in site.pv_arrays if a.kind == kind]
        if not cols:
            continue
        # min_count=1: a window where every array of the kind is missing stays a gap.
        kw = frame[cols].sum(axis=1, min_count=1) / 1000
        fig.add_trace(go.Scatter(
            x=x, y=kw, name=f"PV {t(f'kind.{kind}', lang)}", stackgroup="pv", mode="lines",
            line={"width": 0.5, "color": KIND_COLOUR[kind]},
            hovertemplate="%{y:,.1f} kW<extra>%{fullData.name}</extra>"))
    if "consumption" in frame:
        fig.add_trace(go.Scatter(
            x=x, y=frame["consumption"] / 1000, name=t("energy.consumption", lang),
            mode="lines", line={"width": 2.5, "color": theme.CONSUMPTION},
            hovertemplate="%{y:,.1f} kW<extra>%{fullData.name}</extra>"))
    fig.update_layout(**theme.base_layout(lang, height=340), hovermode="x unified")
    fig.update_xaxes(**theme.time_axis_format(lang))
    fig.update_yaxes(title_text="kW")
    return fig


def short_label(array: PVArray, lang: str) -> str:
    """"Fassade NO", "Dach S (A)": mounting and compass direction, short enough for a phone."""
    label = f"{t(f'kind.{array.kind}', lang)} {t(f'compass.{array.orientation}', lang)}"
    if array.kind == "roof":
        label += f" ({array.name.get(lang).split()[-1]})"
    return label


def orientation_bars(arrays: list[ArrayEnergy], site: Site, lang: str) -> go.Figure:
    """Power now per array, labelled with kind and compass direction, in kW."""
    rows = sorted(arrays, key=lambda a: (a.array.kind != "roof", a.array.azimuth_deg))
    labels = [short_label(a.array, lang) for a in rows]
    values = [None if a.power_w is None else a.power_w / 1000 for a in rows]
    text = [i18n.fmt_power(a.power_w, lang) for a in rows]
    fig = go.Figure(go.Bar(
        y=labels, x=values, orientation="h", text=text, textposition="outside",
        cliponaxis=False,
        marker={"color": [KIND_COLOUR[a.array.kind] for a in rows]},
        hovertemplate="%{y}: %{x:,.1f} kW<extra></extra>"))
    fig.update_layout(**theme.base_layout(lang, height=max(260, 34 * len(rows) + 60),
                                          legend=False))
    fig.update_layout(margin={"l": 8, "r": 72, "t": 8, "b": 40})
    fig.update_yaxes(autorange="reversed", automargin=True, gridcolor="rgba(0,0,0,0)")
    fig.update_xaxes(title_text="kW", rangemode="tozero")
    return fig


def expected_vs_actual(perf: Performance, site: Site, lang: str) -> go.Figure:
    """Actual and expected kWh per array over the last 24 h; flagged arrays in red."""
    if not perf.has_weather:
        return theme.empty_figure(t("energy.no_weather", lang), lang)
    names = {a.id: short_label(a, lang) for a in site.pv_arrays}
    rows = perf.arrays
    labels = [names[a.array_id] for a in rows]
    ratio_text = []
    for a in rows:
        text = t("energy.ratio", lang) + " " + i18n.fmt_percent(a.ratio, lang)
        if a.baseline is not None:
            text += " · " + t("energy.usual", lang, ratio=i18n.fmt_percent(a.baseline, lang))
        if a.flagged:
            text = "⚠ " + text + " · " + t("energy.underperforming", lang)
        ratio_text.append(text)
    fig = go.Figure()
    fig.add_trace(go.Bar(
        y=labels, x=[a.expected_wh / 1000 for a in rows], orientation="h",
        name=t("energy.expected_short", lang),
        marker={"color": "rgba(127, 140, 153, 0.35)", "line": {"color": theme.EXPECTED,
                                                               "width": 1}},
        hovertemplate="%{y}<br>%{x:,.0f} kWh<extra>%{fullData.name}</extra>"))
    fig.add_trace(go.Bar(
        y=labels, x=[a.actual_wh / 1000 for a in rows], orientation="h",
        name=t("energy.actual", lang),
        marker={"color": [theme.ALARM if a.flagged else theme.PV for a in rows]},
        # Only "⚠ 79 %" next to a bar: the words "below expectation" made the label wider
        # than a phone's chart (cut off at 320 px); the legend entry below says them.
        text=[("⚠ " if a.flagged else "") + i18n.fmt_percent(a.ratio, lang) for a in rows],
        textposition="outside", cliponaxis=False,
        textfont={"size": 14, "color": [theme.ALARM if a.flagged else theme.INK for a in rows]},
        customdata=ratio_text,
        hovertemplate="%{y}<br>%{x:,.0f} kWh<br>%{customdata}<extra>%{fullData.name}</extra>"))
    if any(a.flagged for a in rows):
        # A legend entry only (no data, so no third bar in the groups).
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", hoverinfo="skip",
            name="⚠ " + t("energy.underperforming", lang),
            marker={"symbol": "square", "size": 11, "color": theme.ALARM}))
    fig.update_layout(**theme.base_layout(lang, height=56 * len(rows) + 90), barmode="group",
                      bargap=0.3, bargroupgap=0.05)
    fig.update_layout(margin={"l": 8, "r": 72, "t": 16, "b": 48})
    fig.update_xaxes(title_text="kWh")
    fig.update_yaxes(autorange="reversed", automargin=True, gridcolor="rgba(0,0,0,0)")
    return fig
