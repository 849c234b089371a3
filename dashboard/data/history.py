"""A sensor's history for a chart: windows chosen for about 1,000 points, gaps kept as gaps.

Window rule: the smallest window of the ladder 1 min, 5 min, 15 min, 1 h, 6 h, 1 d that
gives at most 1,500 windows over the range and is not shorter than the sensor's interval
(shorter windows would be empty every other time and draw as a dotted line). So 1 h shows
raw 1-minute data (60 points), 24 h 1-minute windows (1,440), 7 d 15-minute (672), 30 d
hourly (720), a year 6-hour windows (1,460). Each window carries mean, min and max: the chart draws
the mean as a line and min–max as a band, so a spike inside a window stays visible.

Gaps: where consecutive windows are more than two windows (or two intervals) apart, a row
of NaN is inserted, which Plotly draws as a break instead of a line across the gap.

Long ranges cost no more than their windows: the store answers windows that are whole
15-minute, hourly or daily roll-up windows from those tiers (and raw readings before the
tiers are built); nothing here names a tier (docs/architecture.md, "Roll-ups"). Daily
windows (charts longer than about a year) are UTC days for that reason.

Readings marked implausible are left out of the chart (one such value would squash the real
curve into a flat line) and counted, so the page can say how many it hides.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dashboard.data.cache import bucket_end
from dashboard.data.periods import window_offset_ns
from dashboard.data.source import DataSource
from stadtpuls.reading import SeriesKey
from stadtpuls.store.protocol import Aggregate
from stadtpuls.timebase import NS_PER_S

WINDOW_LADDER_S = (60, 300, 900, 3_600, 21_600, 86_400)
MAX_POINTS = 1_500
QUICK_RANGES_S = {"1h": 3_600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400,
                  "1y": 365 * 86_400}
_AGGS = (Aggregate.MEAN, Aggregate.MIN, Aggregate.MAX)
_QUERY_AGGS = (*_AGGS, Aggregate.COUNT)


def choose_window_s(span_s: float, interval_s: float = 0.0) -> int:
    """The window for a chart of `span_s` seconds of a sensor reporting every `interval_s`."""
    for window in WINDOW_LADDER_S:
        if window >= interval_s and span_s / window <= MAX_POINTS:
            return window
    return WINDOW_LADDER_S[-1]


def refresh_bucket_s(window_s: int) -> float:
    """How long a history chart may be reused: short ranges live, long ones every 5 min."""
    if window_s <= 60:
        return 10.0
    if window_s <= 900:
        return 60.0
    return 300.0


@dataclass(frozen=True)
class History:
    key: SeriesKey
    start_ns: int
    end_ns: int
    window_s: int
    frame: pd.DataFrame
    """Columns time (aware, site zone), mean, min, max; NaN rows mark gaps."""
    hidden: int = 0
    """Readings in the range left out because they are marked implausible."""

    @property
    def points(self) -> int:
        return int(self.frame["mean"].notna().sum())


def quick_range(source: DataSource, name: str, interval_s: float) -> tuple[int, int]:
    """[start, end) of a quick range ending now, end rounded up to the refresh bucket."""
    span = QUICK_RANGES_S[name]
    window = choose_window_s(span, interval_s)
    end = bucket_end(source.now_ns(), refresh_bucket_s(window))
    return end - span * NS_PER_S, end


def history(
    source: DataSource, key: SeriesKey, start_ns: int, end_ns: int, interval_s: float,
    zone: ZoneInfo,
) -> History:
    span_s = (end_ns - start_ns) / NS_PER_S
    window_s = choose_window_s(span_s, interval_s)
    window = window_s * NS_PER_S
    # Local alignment for hours up to 6 h; days are UTC days, so the daily roll-up answers
    # charts longer than a year (3,650 rows for ten years instead of 87,600 hourly ones).
    # Local days were only ever approximate over such ranges: one fixed offset, DST ignored.
    offset = window_offset_ns(zone, start_ns, window) if 3_600 <= window_s < 86_400 else 0
    ttl = refresh_bucket_s(window_s)
    result = source.reader.aggregate([key], start_ns, end_ns, window, _QUERY_AGGS, ttl_s=ttl,
                                     offset_ns=offset, exclude_implausible=True)
    ws = result.get(key)
    shown = int(sum(ws.values[Aggregate.COUNT])) if ws else 0
    everything = source.reader.aggregate([key], start_ns, end_ns, end_ns - start_ns,
                                         (Aggregate.COUNT,), ttl_s=ttl, offset_ns=start_ns)
    total = int(sum(everything[key].values[Aggregate.COUNT])) if key in everything else 0
    times = np.asarray(ws.times if ws else [], dtype=np.int64)
    frame = pd.DataFrame({
        "t": times,
        **{a.value: np.asarray(ws.values[a] if ws else [], dtype=np.float64) for a in _AGGS},
    })
    frame = _with_gaps(frame, max(2 * window, int(2 * interval_s * NS_PER_S) + window))
    # Readings sit at their window's start; show them at the middle of the window instead
    # when a window holds many, so a daily mean is drawn at noon, not at midnight.
    shift = window // 2 if window_s > interval_s * 1.5 else 0
    frame["time"] = pd.to_datetime(frame["t"] + shift, unit="ns", utc=True).dt.tz_convert(zone)
    frame = frame[["time", "mean", "min", "max"]].reset_index(drop=True)
    return History(key, start_ns, end_ns, window_s, frame, max(0, total - shown))


def _with_gaps(frame: pd.DataFrame, max_step_ns: int) -> pd.DataFrame:
    if len(frame) < 2:
        return frame
    t = frame["t"].to_numpy()
    breaks = np.nonzero(np.diff(t) > max_step_ns)[0]
    if breaks.size == 0:
        return frame
    gap_rows = pd.DataFrame({"t": t[breaks] + 1, **{a.value: np.nan for a in _AGGS}})
    return pd.concat([frame, gap_rows]).sort_values("t", kind="stable").reset_index(drop=True)


def to_csv(hist: History, unit: str, decimal: str = ".") -> str:
    """The shown range as CSV: local time with offset, mean, min, max (gap rows dropped)."""
    frame = hist.frame.dropna(subset=["mean"]).copy()
    frame["time"] = frame["time"].map(lambda t: t.isoformat())
    frame = frame.rename(columns={"mean": f"mean [{unit}]", "min": f"min [{unit}]",
                                  "max": f"max [{unit}]"})
    buffer = io.StringIO()
    # A German spreadsheet reads "1,5" as a number only with ';' between fields.
    sep = ";" if decimal == "," else ","
    frame.to_csv(buffer, index=False, sep=sep, decimal=decimal, lineterminator="\n")
    return buffer.getvalue()
