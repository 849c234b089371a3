"""Snapshot rows: one per (ingest client, series), written by the ingest, merged by readers.

A row says, as of `at_ns`, for the readings this client made durable in the store: the newest
reading, and the figures the health rules need over windows that end at `end_ns` (`at_ns`
rounded up to a `BUCKET_S` boundary): the reading count over the completeness window and
MIN / MAX / COUNT over the stuck window. Several replicas each write their own rows; `merge`
adds counts, takes the extremes and keeps the newest reading, which is exact because every
reading is delivered (and counted) by exactly one replica.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity

BUCKET_S = 600
"""Windows end on these boundaries; a window's length must be a multiple of it."""
BUCKET_NS = BUCKET_S * NS_PER_S
RING_S = 86_400
"""The longest window a snapshot answers (the default completeness window)."""


def window_end_ns(at_ns: int) -> int:
    """`at_ns` rounded up to the next bucket boundary (itself when on one)."""
    return -(-at_ns // BUCKET_NS) * BUCKET_NS


def answerable(window_s: float | None) -> bool:
    """Whether snapshots carry figures for a window of this length."""
    return (window_s is not None and 0 < window_s <= RING_S
            and float(window_s).is_integer() and int(window_s) % BUCKET_S == 0)


@dataclass(frozen=True)
class WindowFigures:
    """COUNT (and for the stuck window MIN / MAX) of one series over [end − window, end)."""

    window_s: int
    count: int
    min: float = 0.0
    max: float = 0.0

    def merged(self, other: WindowFigures) -> WindowFigures:
        if not other.count:
            return self
        if not self.count:
            return other
        return WindowFigures(self.window_s, self.count + other.count,
                             min(self.min, other.min), max(self.max, other.max))


@dataclass(frozen=True)
class StateRow:
    client: str
    key: SeriesKey
    at_ns: int
    end_ns: int
    newest: Reading | None
    completeness: WindowFigures | None
    """Count over the completeness window; None when the sensor's window is not answerable."""
    stuck: WindowFigures | None
    """Count, min and max over the stuck window; None when not answerable or not checked."""


@dataclass(frozen=True)
class SeriesState:
    """The merged state of one series over every client's row for the same window end."""

    key: SeriesKey
    end_ns: int
    at_ns: int
    """The oldest snapshot time merged in: readings that arrived later are not counted yet."""
    newest: Reading | None
    completeness: WindowFigures | None
    stuck: WindowFigures | None


def _merge_figures(a: WindowFigures | None, b: WindowFigures | None) -> WindowFigures | None:
    if a is None or b is None or a.window_s != b.window_s:
        return a if b is None else (b if a is None else None)
    return a.merged(b)


def _newer(a: Reading | None, b: Reading | None) -> Reading | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b.time_ns > a.time_ns else a


def newest_snapshots(rows: Iterable[StateRow]) -> list[StateRow]:
    """Each client's newest snapshot: a snapshot is the client's whole state, so rows of an
    older one (a series it no longer tracks, a part left over from a larger snapshot) go."""
    rows = list(rows)
    newest: dict[str, int] = {}
    for r in rows:
        if r.at_ns > newest.get(r.client, r.at_ns - 1):
            newest[r.client] = r.at_ns
    return [r for r in rows if r.at_ns == newest[r.client]]


def merge(rows: Iterable[StateRow]) -> dict[SeriesKey, SeriesState]:
    """Every series' state at the newest window end any client wrote.

    Rows with an older window end (a replica that stopped or lags by a bucket) are left out
    of the window figures, but their newest reading still counts: a series only they saw keeps
    its newest reading and has no window figures (readers then ask the store).
    """
    rows = list(rows)
    if not rows:
        return {}
    end = max(r.end_ns for r in rows)
    out: dict[SeriesKey, SeriesState] = {}
    for r in rows:
        current = r.end_ns == end
        prev = out.get(r.key)
        if prev is None:
            out[r.key] = SeriesState(r.key, end, r.at_ns if current else end, r.newest,
                                     r.completeness if current else None,
                                     r.stuck if current else None)
            continue
        newest = _newer(prev.newest, r.newest)
        if not current:
            out[r.key] = SeriesState(r.key, end, prev.at_ns, newest, prev.completeness,
                                     prev.stuck)
            continue
        fresh_prev = prev.completeness is not None or prev.stuck is not None
        out[r.key] = SeriesState(
            r.key, end, min(prev.at_ns, r.at_ns), newest,
            _merge_figures(prev.completeness, r.completeness) if fresh_prev
            else r.completeness,
            _merge_figures(prev.stuck, r.stuck) if fresh_prev else r.stuck)
    return out


_QUANTITIES = {q.value: q for q in Quantity}


def row_quantity(name: str) -> Quantity | None:
    # A dict, not Quantity(name): the enum's lookup with its error path costs ~100 µs a row.
    return _QUANTITIES.get(name)
