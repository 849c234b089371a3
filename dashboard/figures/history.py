"""Sensor history chart: mean line, min–max band, thresholds, gaps as gaps."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import i18n
from dashboard.data.history import History
from dashboard.figures import theme
from dashboard.i18n import t
from stadtpuls.catalogue.models import Thresholds

_THRESHOLD_STYLE = {
    "alarm_low": ("detail.alarm", theme.ALARM),
    "warn_low": ("detail.warn", theme.WARN),
    "warn_high": ("detail.warn", theme.WARN),
    "alarm_high": ("detail.alarm", theme.ALARM),
}


def history_figure(hist: History, unit: str, thresholds: Thresholds | None, zone: ZoneInfo,
                   lang: str, *, interval_s: float) -> go.Figure:
    frame = hist.frame
    x_range = [pd.Timestamp(hist.start_ns, unit="ns", tz="UTC").tz_convert(zone),
               pd.Timestamp(hist.end_ns, unit="ns", tz="UTC").tz_convert(zone)]
    if hist.points == 0:
        fig = theme.empty_figure(t("detail.no_data", lang), lang, height=420)
        return fig
    value_fmt = ":,.4~f"
    suffix = f" {unit}" if unit else ""
    fig = go.Figure()
    aggregated = hist.window_s > interval_s * 1.5
    if aggregated:
        fig.add_trace(go.Scatter(
            x=frame["time"], y=frame["min"], mode="lines", line={"width": 0},
            showlegend=False, hoverinfo="skip", connectgaps=False))
        fig.add_trace(go.Scatter(
            x=frame["time"], y=frame["max"], mode="lines", line={"width": 0},
            fill="tonexty", fillcolor=theme.BAND, name=t("detail.band", lang),
            customdata=frame["min"], connectgaps=False,
            hovertemplate=f"%{{customdata{value_fmt}}} – %{{y{value_fmt}}}{suffix}"
                          "<extra>%{fullData.name}</extra>"))
    fig.add_trace(go.Scatter(
        x=frame["time"], y=frame["mean"], mode="lines" if hist.points > 1 else "markers",
        line={"width": 2.2, "color": theme.ACCENT}, connectgaps=False,
        name=t("detail.mean", lang) if aggregated else t("detail.readings", lang),
        hovertemplate=f"%{{y{value_fmt}}}{suffix}<extra>%{{fullData.name}}</extra>"))
    lo, hi = float(np.nanmin(frame["min"])), float(np.nanmax(frame["max"]))
    span = max(hi - lo, abs(hi) * 0.05, 1e-6)
    above: list[str] = []
    below: list[str] = []
    if thresholds is not None:
        for field, (label, colour) in _THRESHOLD_STYLE.items():
            level = getattr(thresholds, field)
            if level is None:
                continue
            text = f"{t(label, lang)} {i18n.fmt_value(level, unit, lang)}"
            # A threshold far from the data would squash the curve into a flat line: name
            # it at the edge instead of drawing it.
            if level > hi + 0.6 * span:
                above.append(text)
                continue
            if level < lo - 0.6 * span:
                below.append(text)
                continue
            lo, hi = min(lo, level), max(hi, level)
            fig.add_hline(
                y=level, line={"color": colour, "width": 1.5, "dash": "dash"},
                annotation={"text": text, "font": {"color": colour, "size": 13},
                            "bgcolor": "white"},
                annotation_position="top left" if field.endswith("high") else "bottom left")
    for texts, y, arrow in ((above, 1.0, "↑"), (below, 0.0, "↓")):
        if texts:
            fig.add_annotation(text=f"{arrow} " + " · ".join(texts), xref="paper", yref="paper",
                               x=1.0, y=y, xanchor="right", yanchor="bottom" if y else "top",
                               showarrow=False, font={"size": 13, "color": theme.MUTED})
    fig.update_layout(**theme.base_layout(lang, height=440), hovermode="x unified")
    fig.update_xaxes(range=x_range, **theme.time_axis_format(lang))
    pad = (hi - lo) * 0.08 or span * 0.5
    fig.update_yaxes(title_text=unit or None, range=[lo - pad, hi + pad],
                     tickformat="~s" if max(abs(lo), abs(hi)) >= 10_000 else None)
    return fig
