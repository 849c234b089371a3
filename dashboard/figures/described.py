"""Every chart in words: a short summary (what it shows and the figure that matters) and its
data as a table, for people who cannot see the picture (WCAG 1.1.1). Pure, like the figures;
`dashboard.ui.chart_text` renders them.

Tables of a day are hourly means (24 rows, not 288 five-minute points); every table is
bounded (`MAX_ROWS`, the newest rows; the sensor page's CSV has all of them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dashboard import i18n
from dashboard.data.energy import ArrayEnergy
from dashboard.data.history import History
from dashboard.data.overview import Trend
from dashboard.data.performance import Performance
from dashboard.data.status import SEVERITY, Status
from dashboard.figures.energy import short_label
from dashboard.figures.map import MapPoint
from dashboard.i18n import t
from stadtpuls.catalogue import Site
from stadtpuls.pipeline import PipelineFigure

MAX_ROWS = 200


@dataclass(frozen=True)
class ChartText:
    summary: str
    caption: str
    columns: list[str]
    """Column headers; the first column holds each row's header (a time, a name)."""
    rows: list[list[str]] = field(default_factory=list)
    note: str | None = None
    """Said under the table, e.g. that only the newest rows are shown."""


def _clock(ts: pd.Timestamp, zone: ZoneInfo, lang: str, date: bool = False) -> str:
    return i18n.fmt_time(int(ts.value), zone, lang, date=date)


def _newest(frame: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, str | None]:
    """At most MAX_ROWS rows, the newest (cut before formatting: a year has thousands)."""
    if len(frame) <= MAX_ROWS:
        return frame, None
    return frame.tail(MAX_ROWS), t("chart.newest_rows", lang,
                                   shown=i18n.fmt_number(MAX_ROWS, lang),
                                   total=i18n.fmt_number(len(frame), lang))


def _hourly(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.resample("1h").mean() if len(frame) > 48 else frame


def _peak(series: pd.Series) -> tuple[float, pd.Timestamp] | None:
    clean = series.dropna()
    if clean.empty:
        return None
    i = int(np.argmax(clean.to_numpy()))
    return float(clean.iloc[i]), pd.Timestamp(clean.index[i])


def _last(series: pd.Series) -> float | None:
    clean = series.dropna()
    return float(clean.iloc[-1]) if len(clean) else None


def _table(frame: pd.DataFrame, zone: ZoneInfo, lang: str,
           cells: Sequence[Callable[[float | None], str]]) -> list[list[str]]:
    rows = []
    for at, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        row = [_clock(pd.Timestamp(at), zone, lang, date=True)]
        for fmt, value in zip(cells, values, strict=True):
            number = None if value is None or not math.isfinite(float(value)) else float(value)
            row.append(fmt(number))
        rows.append(row)
    return rows


def trend_text(trend: Trend, zone: ZoneInfo, lang: str, label: dict[str, str]) -> ChartText:
    """The overview card's 24-hour trend."""
    frame = trend.frame
    names = [label.get(c) or t(c, lang) for c in frame.columns]
    parts = []
    for column, name in zip(frame.columns, names, strict=True):
        series = frame[column]
        peak = _peak(series)
        if peak is None:
            parts.append(t("chart.no_values", lang, name=name))
        elif trend.kind == "bars":
            parts.append(t("chart.total_peak", lang, name=name,
                           total=i18n.fmt_number(float(series.sum()), lang),
                           peak=i18n.fmt_number(peak[0], lang),
                           time=_clock(peak[1], zone, lang)))
        else:
            parts.append(t("chart.last_peak", lang, name=name,
                           last=i18n.fmt_value(_last(series), trend.unit, lang),
                           peak=i18n.fmt_value(peak[0], trend.unit, lang),
                           time=_clock(peak[1], zone, lang)))
    unit = f" [{trend.unit}]" if trend.unit else ""
    hourly = _hourly(frame) if trend.kind != "bars" else frame
    shown, note = _newest(hourly, lang)
    rows = _table(shown, zone, lang, [lambda v: i18n.fmt_value(v, trend.unit, lang)] * len(names))
    caption = t("overview.last_24h", lang) + (
        " · " + t("chart.hourly_means", lang) if hourly is not frame else "")
    return ChartText(t("chart.last_24h", lang) + " " + " · ".join(parts), caption,
                     [t("chart.time", lang)] + [n + unit for n in names], rows, note)


def power_text(perf: Performance, site: Site, zone: ZoneInfo, lang: str) -> ChartText:
    """The energy page's PV power and consumption over the last 24 hours."""
    frame = perf.frame
    caption = t("energy.power_today", lang) + " · " + t("chart.hourly_means", lang)
    if frame.empty:
        return ChartText(t("detail.no_data", lang), caption, [])
    series: dict[str, pd.Series] = {}
    for kind in ("roof", "facade"):
        cols = [f"actual:{a.id}" for a in site.pv_arrays if a.kind == kind]
        if cols:
            series[f"PV {t(f'kind.{kind}', lang)}"] = frame[cols].sum(axis=1, min_count=1)
    if "consumption" in frame:
        series[t("energy.consumption", lang)] = frame["consumption"]
    table = pd.DataFrame(series)
    pv_cols = [c for c in table.columns if c.startswith("PV ")]
    pv = table[pv_cols].sum(axis=1, min_count=1) if pv_cols else pd.Series(dtype=float)
    parts = []
    peak = _peak(pv)
    if peak is not None:
        parts.append(t("chart.pv_peak", lang, peak=i18n.fmt_power(peak[0], lang),
                       time=_clock(peak[1], zone, lang),
                       now=i18n.fmt_power(_last(pv), lang)))
    if "consumption" in frame:
        used = _peak(frame["consumption"])
        if used is not None:
            parts.append(t("chart.consumption_peak", lang,
                           now=i18n.fmt_power(_last(frame["consumption"]), lang),
                           peak=i18n.fmt_power(used[0], lang),
                           time=_clock(used[1], zone, lang)))
    shown, note = _newest(_hourly(table), lang)
    rows = _table(shown, zone, lang, [lambda v: i18n.fmt_power(v, lang)] * len(table.columns))
    return ChartText(" ".join(parts) or t("detail.no_data", lang), caption,
                     [t("chart.time", lang), *table.columns], rows, note)


def orientation_text(arrays: list[ArrayEnergy], lang: str) -> ChartText:
    """The energy page's bars of power now per PV array."""
    rows = sorted(arrays, key=lambda a: (a.array.kind != "roof", a.array.azimuth_deg))
    live = [a for a in rows if a.power_w is not None]
    caption = t("energy.by_orientation", lang)
    if not live:
        summary = t("detail.no_data", lang)
    else:
        best = max(live, key=lambda a: a.power_w or 0.0)
        summary = t("chart.best_array", lang, name=short_label(best.array, lang),
                    power=i18n.fmt_power(best.power_w, lang),
                    total=i18n.fmt_power(sum(a.power_w or 0.0 for a in live), lang))
    return ChartText(summary, caption, [t("col.array", lang), t("col.power_now", lang)],
                     [[short_label(a.array, lang), i18n.fmt_power(a.power_w, lang)]
                      for a in rows])


def expected_text(perf: Performance, site: Site, lang: str) -> ChartText:
    """The energy page's expected vs actual kWh per array over the last 24 hours."""
    caption = t("energy.expected", lang)
    if not perf.has_weather:
        return ChartText(t("energy.no_weather", lang), caption, [])
    names = {a.id: short_label(a, lang) for a in site.pv_arrays}
    actual = sum(a.actual_wh for a in perf.arrays)
    expected = sum(a.expected_wh for a in perf.arrays)
    flagged = [names[a.array_id] for a in perf.arrays if a.flagged]
    summary = t("chart.expected_total", lang, actual=i18n.fmt_energy(actual, lang),
                expected=i18n.fmt_energy(expected, lang),
                ratio=i18n.fmt_percent(actual / expected if expected else None, lang))
    summary += " " + (t("chart.flagged", lang, arrays=", ".join(flagged)) if flagged
                      else t("chart.none_flagged", lang))
    rows = [[names[a.array_id], i18n.fmt_energy(a.expected_wh, lang),
             i18n.fmt_energy(a.actual_wh, lang), i18n.fmt_percent(a.ratio, lang),
             i18n.fmt_percent(a.baseline, lang),
             t("energy.underperforming", lang) if a.flagged else "–"] for a in perf.arrays]
    return ChartText(summary, caption, [
        t("col.array", lang), t("energy.expected_short", lang), t("energy.actual", lang),
        t("energy.ratio", lang), t("chart.usual", lang), t("col.status", lang)], rows)


def history_text(hist: History, name: str, unit: str, zone: ZoneInfo, lang: str) -> ChartText:
    """A sensor's history over the chosen range."""
    frame = hist.frame.dropna(subset=["mean"])
    start = _clock(pd.Timestamp(hist.start_ns, unit="ns", tz="UTC"), zone, lang, date=True)
    end = _clock(pd.Timestamp(hist.end_ns, unit="ns", tz="UTC"), zone, lang, date=True)
    caption = t("chart.history_caption", lang, name=name, start=start, end=end)
    columns = [t("chart.time", lang), t("detail.stat_mean", lang), t("detail.stat_min", lang),
               t("detail.stat_max", lang)]
    if frame.empty:
        return ChartText(t("detail.no_data", lang), caption, columns)
    low = int(np.nanargmin(frame["min"].to_numpy(dtype=float)))
    high = int(np.nanargmax(frame["max"].to_numpy(dtype=float)))
    times = pd.DatetimeIndex(frame["time"])
    summary = t("chart.history", lang, name=name, start=start, end=end,
                last=i18n.fmt_value(float(frame["mean"].iloc[-1]), unit, lang),
                min=i18n.fmt_value(float(frame["min"].iloc[low]), unit, lang),
                min_time=i18n.fmt_time(int(times[low].value), zone, lang),
                max=i18n.fmt_value(float(frame["max"].iloc[high]), unit, lang),
                max_time=i18n.fmt_time(int(times[high].value), zone, lang))
    table = frame.set_index("time")[["mean", "min", "max"]]
    shown, note = _newest(table, lang)
    rows = _table(shown, zone, lang, [lambda v: i18n.fmt_value(v, unit, lang)] * 3)
    return ChartText(summary, caption, columns, rows, note)


_RATES = ((PipelineFigure.MESSAGES_ACCEPTED, "pipeline.messages"),
          (PipelineFigure.READINGS_WRITTEN, "pipeline.readings"),
          (PipelineFigure.MESSAGES_REJECTED, "pipeline.rejected"))


def rates_text(frame: pd.DataFrame, zone: ZoneInfo, lang: str) -> ChartText:
    """The pipeline page's throughput per minute over the last hour (all ingest clients)."""
    caption = t("pipeline.last_hour", lang)
    columns = [t("chart.time", lang), *[t(label, lang) for _, label in _RATES]]
    if frame.empty:
        return ChartText(t("detail.no_data", lang), caption, columns)
    wide = (frame.pivot_table(index="time", columns="metric", values="per_s", aggfunc="sum")
            .reindex(columns=[m for m, _ in _RATES]))
    wide.index = pd.DatetimeIndex(wide.index)
    last = wide.ffill().iloc[-1]
    summary = t("chart.rates", lang, **{
        key: i18n.fmt_number(None if pd.isna(last[m]) else float(last[m]), lang, 1)
        for (m, _), key in zip(_RATES, ("messages", "readings", "rejected"), strict=True)})
    shown, note = _newest(wide, lang)
    rows = _table(shown, zone, lang, [lambda v: i18n.fmt_number(v, lang, 1)] * len(_RATES))
    return ChartText(summary, caption, columns, rows, note)


def map_text(points: list[MapPoint], lang: str) -> ChartText:
    """The map's places, worst first, each with its sensors' statuses."""
    caption = t("map.title", lang)
    columns = [t("chart.place", lang), t("col.status", lang), t("nav.sensors", lang)]
    if not points:
        return ChartText(t("detail.no_data", lang), caption, columns)
    rank = {s: i for i, s in enumerate(SEVERITY)}
    ordered = sorted(points, key=lambda p: (rank[p.status], p.place))
    attention = [p for p in ordered if p.status is not Status.OK]
    summary = t("chart.map", lang, places=i18n.fmt_number(len(points), lang),
                sensors=i18n.fmt_number(sum(len(p.lines) for p in points), lang),
                attention=i18n.fmt_number(len(attention), lang))
    rows = [[p.place, t(f"status.{p.status.value}", lang), " · ".join(p.lines)]
            for p in ordered]
    return ChartText(summary, caption, columns, rows)
