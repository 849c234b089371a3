"""Pipeline throughput chart: per-minute rates of the ingest's counters."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import theme
from dashboard.i18n import t
from stadtpuls.pipeline import PipelineFigure

_METRICS = ((PipelineFigure.MESSAGES_ACCEPTED, "pipeline.messages", theme.SERIES[0]),
            (PipelineFigure.READINGS_WRITTEN, "pipeline.readings", theme.SERIES[2]),
            (PipelineFigure.MESSAGES_REJECTED, "pipeline.rejected", theme.ALARM))


def rates_figure(frame: pd.DataFrame, zone: ZoneInfo, lang: str) -> go.Figure:
    if frame.empty:
        return theme.empty_figure(t("detail.no_data", lang), lang, height=320)
    fig = go.Figure()
    clients = sorted(frame["client"].unique())
    for metric, label, colour in _METRICS:
        for i, client in enumerate(clients):
            rows = frame[(frame["metric"] == metric) & (frame["client"] == client)]
            if rows.empty:
                continue
            name = t(label, lang) + (f" · {t('pipeline.client', lang, client=client)}"
                                     if len(clients) > 1 else "")
            fig.add_trace(go.Scatter(
                x=rows["time"].dt.tz_convert(zone), y=rows["per_s"], name=name, mode="lines",
                line={"color": colour, "width": 2.2, "dash": ["solid", "dot", "dash"][i % 3]},
                hovertemplate="%{y:,.1f}/s<extra>%{fullData.name}</extra>"))
    fig.update_layout(**theme.base_layout(lang, height=340), hovermode="x unified")
    fig.update_xaxes(**theme.time_axis_format(lang))
    fig.update_yaxes(title_text=t("pipeline.per_s", lang))
    return fig
