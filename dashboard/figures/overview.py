"""Small 24-hour trend chart for an overview card."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from dashboard.data.overview import Trend
from dashboard.figures import theme
from dashboard.i18n import t


def trend_figure(trend: Trend, zone: ZoneInfo, lang: str, label: dict[str, str]) -> go.Figure:
    """`label` maps the trend's column names to display names (i18n keys are resolved)."""
    x = pd.DatetimeIndex(trend.frame.index).tz_convert(zone)
    fig = go.Figure()
    suffix = f" {trend.unit}" if trend.unit else ""
    for i, column in enumerate(trend.frame.columns):
        name = label.get(column) or t(column, lang)
        y = trend.frame[column]
        hover = f"%{{y:,.1f}}{suffix}<extra>{name}</extra>"
        if trend.kind == "bars":
            fig.add_trace(go.Bar(x=x, y=y, name=name, marker={"color": theme.SERIES[0]},
                                 hovertemplate=hover))
        elif trend.kind == "power" and column == "energy.production":
            fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", fill="tozeroy",
                                     line={"color": theme.PV, "width": 1.5},
                                     fillcolor="rgba(230, 159, 0, 0.35)", hovertemplate=hover))
        else:
            colour = theme.CONSUMPTION if trend.kind == "power" else theme.SERIES[i]
            fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines",
                                     line={"color": colour, "width": 2}, hovertemplate=hover))
    fig.update_layout(**theme.base_layout(lang, height=190, legend=len(trend.frame.columns) > 1))
    fig.update_layout(margin={"l": 48, "r": 8, "t": 30 if len(trend.frame.columns) > 1 else 8,
                              "b": 28}, hovermode="x unified",
                      legend={"y": 1.0, "yanchor": "bottom", "x": 0.0, "orientation": "h"})
    fig.update_xaxes(tickformat="%H:%M", hoverformat="%H:%M", nticks=7)
    fig.update_yaxes(title_text=trend.unit or None, nticks=4)
    return fig
