"""Which tier answers an `aggregate` query, and how its parts are put back together.

The stores call this from `aggregate`, so the dashboard never names a tier: it asks for
windows, and the coarsest tier whose windows tile the query's windows answers the whole
windows of the range, raw readings the ragged ends (each shorter than one tier window):

    [start ── raw ──┐ a ─────────── tier rows ─────────── b ┌── raw ── end)

A tier can answer when
- it is complete from `a` on: `a` is moved to where its *coverage* starts (set by the
  roll-up worker's catch-up and by `stadtpuls rollup backfill`), so before a backfill the
  older part of a range is read raw as before, and a tier without coverage answers nothing;
- the query's windows are whole tier windows (window a multiple of the tier's width, offset
  a multiple too), or the range lies inside one query window (a total over a range);
- the query wants figures the tier keeps: tiers summarise plausible readings, so a query that
  includes implausible ones can only be answered for COUNT.

Windows that closed less than `SETTLE_NS` ago are read raw: the worker recomputes every
30 s (`--rollup-period`), so a reading that arrived just before a window closed may not be in
its row yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.compute import energy_in_windows, estimate_interval_s
from stadtpuls.rollup.tiers import TIERS, Tier, ceil_to, floor_to
from stadtpuls.store.protocol import Aggregate, Point, WindowSeries
from stadtpuls.timebase import NS_PER_DAY
from stadtpuls.units import Quantity

# A tier answers only if it replaces at least this many raw readings' worth of time; below
# that the two extra queries cost more than they save.
_MIN_TIER_WINDOWS = 4
SETTLE_NS = 300 * 1_000_000_000
PARTIAL_AGGREGATES = (Aggregate.COUNT, Aggregate.SUM, Aggregate.MIN, Aggregate.MAX,
                      Aggregate.LAST)
"""What a raw part is asked for, so that it can be merged with tier rows."""


@dataclass(frozen=True)
class TierPlan:
    tier: Tier
    a_ns: int
    b_ns: int


@dataclass
class Partial:
    """One query window's figures from one part: count under the query's filter."""

    count: int
    total: float
    minimum: float | None
    maximum: float | None
    last: float | None
    energy: float | None = None


def window_of(t_ns: int, window_ns: int, offset_ns: int) -> int:
    return t_ns - (t_ns - offset_ns) % window_ns


def plan(
    start_ns: int, end_ns: int, window_ns: int, offset_ns: int,
    aggregates: Sequence[Aggregate], exclude_implausible: bool,
    coverage: Mapping[Tier, int], now_ns: int | None = None,
) -> TierPlan | None:
    """The tier that answers this query (with its part [a, b)), or None: read raw."""
    settled = (time.time_ns() if now_ns is None else now_ns) - SETTLE_NS
    if not exclude_implausible and set(aggregates) - {Aggregate.COUNT}:
        return None
    single = window_of(start_ns, window_ns, offset_ns) == window_of(end_ns - 1, window_ns,
                                                                      offset_ns)
    for tier in reversed(TIERS):
        width = tier.width_ns
        if not single and (window_ns % width or offset_ns % width):
            continue
        if tier not in coverage:
            continue
        # Before the tier's coverage starts, raw readings answer (a longer head part).
        a = ceil_to(max(start_ns, coverage[tier]), width)
        b = floor_to(min(end_ns, settled), width)
        if b - a >= _MIN_TIER_WINDOWS * width:
            return TierPlan(tier, a, b)
    return None


def partials_from_series(series: Mapping[SeriesKey, WindowSeries]
                         ) -> dict[SeriesKey, dict[int, Partial]]:
    """A raw part's answer (asked for PARTIAL_AGGREGATES, or COUNT only) as partials."""
    out: dict[SeriesKey, dict[int, Partial]] = {}
    for key, ws in series.items():
        v = ws.values
        out[key] = {
            t: Partial(
                int(v[Aggregate.COUNT][i]),
                v[Aggregate.SUM][i] if Aggregate.SUM in v else 0.0,
                v[Aggregate.MIN][i] if Aggregate.MIN in v else None,
                v[Aggregate.MAX][i] if Aggregate.MAX in v else None,
                v[Aggregate.LAST][i] if Aggregate.LAST in v else None,
            )
            for i, t in enumerate(ws.times)
        }
    return out


def merge(parts: Sequence[Mapping[SeriesKey, Mapping[int, Partial]]],
          aggregates: Sequence[Aggregate]) -> dict[SeriesKey, WindowSeries]:
    """Windows of all parts (given in time order) as the query's `WindowSeries`."""
    combined: dict[SeriesKey, dict[int, Partial]] = {}
    for part in parts:
        for key, windows in part.items():
            into = combined.setdefault(key, {})
            for t, p in windows.items():
                if not p.count:
                    continue
                have = into.get(t)
                if have is None:
                    into[t] = Partial(p.count, p.total, p.minimum, p.maximum, p.last)
                    continue
                have.count += p.count
                have.total += p.total
                have.minimum = _pick(min, have.minimum, p.minimum)
                have.maximum = _pick(max, have.maximum, p.maximum)
                have.last = p.last if p.last is not None else have.last
    out: dict[SeriesKey, WindowSeries] = {}
    for key, windows in combined.items():
        if not windows:
            continue
        ws = WindowSeries(values={a: [] for a in aggregates})
        for t in sorted(windows):
            p = windows[t]
            ws.times.append(t)
            for a in aggregates:
                ws.values[a].append(_value(p, a))
        out[key] = ws
    return out


def _pick(f: Callable[[float, float], float], a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else f(a, b)


def _value(p: Partial, aggregate: Aggregate) -> float:
    if aggregate is Aggregate.COUNT:
        return float(p.count)
    if aggregate is Aggregate.SUM:
        return p.total
    if aggregate is Aggregate.MEAN:
        return p.total / p.count
    value = {Aggregate.MIN: p.minimum, Aggregate.MAX: p.maximum, Aggregate.LAST: p.last}[aggregate]
    assert value is not None  # a window with a count has all three (tier rows and raw alike)
    return value


RawPart = Callable[[int, int, Sequence[Aggregate]], Mapping[SeriesKey, WindowSeries]]
"""The store's raw aggregate over [start, end) for the query's series, window and filter."""
TierPart = Callable[[Tier, int, int, bool, bool], Mapping[SeriesKey, Mapping[int, Partial]]]
"""The store's tier rows over [a, b) per query window: (tier, a, b, need_last, energy)."""
PointsPart = Callable[[Sequence[SeriesKey], int, int], Mapping[SeriesKey, Sequence[Point]]]
"""The store's raw readings of series of one quantity in [start, end)."""

_ENERGY_CHUNK_NS = 31 * NS_PER_DAY
_ENERGY_CONTEXT_NS = NS_PER_DAY
_DEFAULT_INTERVAL_S = 60.0


def answer(
    raw: RawPart, tier_part: TierPart, coverage: Callable[[], Mapping[Tier, int]],
    start_ns: int, end_ns: int, window_ns: int, offset_ns: int,
    aggregates: Sequence[Aggregate], exclude_implausible: bool,
    pool: Executor | None = None,
) -> dict[SeriesKey, WindowSeries]:
    """An `aggregate` query, from a tier where one can answer it, else from raw data.

    With a `pool` the (up to three) parts run at once: a server round trip each, so the
    answer takes the slowest part's time instead of the sum.
    """
    found = plan(start_ns, end_ns, window_ns, offset_ns, aggregates, exclude_implausible,
                 coverage()) if end_ns > start_ns else None
    if found is None:
        return dict(raw(start_ns, end_ns, aggregates))
    asked = (Aggregate.COUNT,) if set(aggregates) <= {Aggregate.COUNT} else PARTIAL_AGGREGATES
    jobs: list[Callable[[], Mapping[SeriesKey, Mapping[int, Partial]]]] = []
    a, b = found.a_ns, found.b_ns
    if start_ns < a:
        jobs.append(lambda: partials_from_series(raw(start_ns, a, asked)))
    jobs.append(lambda: tier_part(found.tier, a, b, Aggregate.LAST in aggregates, False))
    if b < end_ns:
        jobs.append(lambda: partials_from_series(raw(b, end_ns, asked)))
    if pool is None or len(jobs) == 1:
        return merge([job() for job in jobs], aggregates)
    futures = [pool.submit(job) for job in jobs]
    return merge([f.result() for f in futures], aggregates)


def answer_energy(
    points: PointsPart, tier_part: TierPart, coverage: Callable[[], Mapping[Tier, int]],
    keys: Sequence[SeriesKey], start_ns: int, end_ns: int, window_ns: int, offset_ns: int,
) -> dict[SeriesKey, WindowSeries]:
    """`Aggregate.ENERGY`: tier rows' energy where a tier answers, raw readings elsewhere.

    Raw parts are read in chunks of a month (plus a day of context each side) and the
    sensor's interval is estimated from its readings (the tiers use the catalogue's).
    """
    keys = [k for k in keys if k.quantity in (Quantity.ENERGY, Quantity.POWER)]
    found = plan(start_ns, end_ns, window_ns, offset_ns, (Aggregate.COUNT,), True,
                 coverage()) if end_ns > start_ns and keys else None
    ranges = [(start_ns, end_ns)] if found is None else [(start_ns, found.a_ns),
                                                          (found.b_ns, end_ns)]
    totals: dict[SeriesKey, dict[int, float]] = {}
    if found is not None:
        for key, rows in tier_part(found.tier, found.a_ns, found.b_ns, False, True).items():
            into = totals.setdefault(key, {})
            for w, p in rows.items():
                if p.energy is not None:
                    into[w] = into.get(w, 0.0) + p.energy
    by_quantity: dict[Quantity, list[SeriesKey]] = {}
    for key in keys:
        by_quantity.setdefault(key.quantity, []).append(key)
    for lo, hi in ranges:
        for c0 in range(lo, hi, _ENERGY_CHUNK_NS):
            c1 = min(hi, c0 + _ENERGY_CHUNK_NS)
            for group in by_quantity.values():
                found_points = points(group, c0 - _ENERGY_CONTEXT_NS, c1 + _ENERGY_CONTEXT_NS)
                for key, series in found_points.items():
                    plausible = [(t, v) for t, v, bad in series if not bad]
                    interval = estimate_interval_s(series, _DEFAULT_INTERVAL_S)
                    energy = energy_in_windows(key.quantity, plausible, c0, c1, window_ns,
                                               offset_ns, interval) or {}
                    into = totals.setdefault(key, {})
                    for w, wh in energy.items():
                        into[w] = into.get(w, 0.0) + wh
    out: dict[SeriesKey, WindowSeries] = {}
    for key, windows in totals.items():
        if windows:
            times = sorted(windows)
            out[key] = WindowSeries(times, {Aggregate.ENERGY: [windows[t] for t in times]})
    return out
