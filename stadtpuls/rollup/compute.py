"""Tier rows from raw readings, and higher tiers from lower ones (pure, no store).

Window [s, s+W) holds the readings timed in it (count, mean, min, max, first, last). Energy:

- meters (`energy`, Wh, cumulative): the increase of the count over (s, s+W], i.e. every
  increment between consecutive plausible readings belongs to the window of the later one,
  shifted by 1 ns so that a reading taken exactly on the boundary (meters read on the clock)
  closes the window before. Resets follow `stadtpuls.energy_math.meter_increments`.
- power (W): the trapezoid between consecutive plausible readings, split at window
  boundaries (linear in between), and nothing across a step longer than
  `energy_math.max_power_gap_s(interval)`.

Both make energy additive, so an hourly row's energy is the sum of its four quarter hours and
a higher tier is computed from the lower one without raw data (`rows_from_lower`).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stadtpuls.energy_math import max_power_gap_s, meter_increments
from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.tiers import RollupRow, floor_to
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity

Point = tuple[int, float, bool]
"""(time_ns, value, implausible) of one raw reading."""

_NS_PER_H = 3_600 * NS_PER_S


@dataclass
class _Acc:
    count_all: int = 0
    values: list[tuple[int, float]] = field(default_factory=list)


def rows_from_points(
    key: SeriesKey, width_ns: int, points: Sequence[Point], lo_ns: int, hi_ns: int,
    interval_s: float,
) -> list[RollupRow]:
    """Rows of the windows starting in [lo_ns, hi_ns) (multiples of width_ns).

    `points` are the series' readings in time order, including context outside the windows:
    the readings before lo_ns that a meter's first increment or a power segment needs.
    """
    windows: dict[int, _Acc] = {}
    for t, value, implausible in points:
        if lo_ns <= t < hi_ns:
            acc = windows.setdefault(floor_to(t, width_ns), _Acc())
            acc.count_all += 1
            if not implausible:
                acc.values.append((t, value))
    plausible = [(t, v) for t, v, bad in points if not bad]
    energy = energy_in_windows(key.quantity, plausible, lo_ns, hi_ns, width_ns, 0, interval_s)
    starts = set(windows) | set(energy or ())
    rows = []
    for start in sorted(starts):
        acc = windows.get(start, _Acc())
        wh = None if energy is None else energy.get(start, 0.0)
        rows.append(_row(key, start, acc.count_all, acc.values, wh))
    return rows


def _row(key: SeriesKey, start: int, count_all: int, values: list[tuple[int, float]],
         energy: float | None) -> RollupRow:
    if not values:
        return RollupRow(key, start, count_all, 0, 0.0, energy=energy)
    only = [v for _, v in values]
    return RollupRow(key, start, count_all, len(values), float(sum(only)), min(only), max(only),
                     values[0][0], values[0][1], values[-1][0], values[-1][1], energy)


def energy_in_windows(
    quantity: Quantity, plausible: Sequence[tuple[int, float]], lo_ns: int, hi_ns: int,
    window_ns: int, offset_ns: int, interval_s: float,
) -> dict[int, float] | None:
    """Energy (Wh) per window (aligned to epoch + offset) of what lies in [lo, hi).

    A meter's increment lies at its later reading minus 1 ns, a power segment where it runs;
    so ranges that tile time count every increment and segment exactly once (None: the
    quantity has no energy).
    """
    if quantity is Quantity.ENERGY:
        return _meter_energy(plausible, lo_ns, hi_ns, window_ns, offset_ns)
    if quantity is Quantity.POWER:
        return _power_energy(plausible, lo_ns, hi_ns, window_ns, offset_ns, interval_s)
    return None


def _start(t_ns: int, window_ns: int, offset_ns: int) -> int:
    return t_ns - (t_ns - offset_ns) % window_ns


def _meter_energy(plausible: Sequence[tuple[int, float]], lo_ns: int, hi_ns: int,
                  window_ns: int, offset_ns: int) -> dict[int, float]:
    out: dict[int, float] = {}
    increments = meter_increments([v for _, v in plausible])
    for (t, _), inc in zip(plausible[1:], increments, strict=True):
        if lo_ns <= t - 1 < hi_ns:
            start = _start(t - 1, window_ns, offset_ns)
            out[start] = out.get(start, 0.0) + inc
    return out


def _power_energy(plausible: Sequence[tuple[int, float]], lo_ns: int, hi_ns: int,
                  window_ns: int, offset_ns: int, interval_s: float) -> dict[int, float]:
    out: dict[int, float] = {}
    limit_ns = max_power_gap_s(interval_s) * NS_PER_S
    for (ta, pa), (tb, pb) in itertools.pairwise(plausible):
        if tb <= ta or tb - ta > limit_ns or tb <= lo_ns or ta >= hi_ns:
            continue
        slope = (pb - pa) / (tb - ta)
        a, b = max(ta, lo_ns), min(tb, hi_ns)
        start = _start(a, window_ns, offset_ns)
        while start < b:
            x0, x1 = max(a, start), min(b, start + window_ns)
            if x1 > x0:
                p0, p1 = pa + slope * (x0 - ta), pa + slope * (x1 - ta)
                out[start] = out.get(start, 0.0) + (p0 + p1) / 2.0 * (x1 - x0) / _NS_PER_H
            start += window_ns
    return out


def estimate_interval_s(points: Sequence[tuple[int, float, bool]], default_s: float) -> float:
    """A sensor's interval when nobody told us: the median step of its readings."""
    if len(points) < 3:
        return default_s
    steps = [b[0] - a[0] for a, b in itertools.pairwise(points)]
    return max(1.0, statistics.median(steps) / NS_PER_S)


def rows_from_lower(key: SeriesKey, width_ns: int, lower: Iterable[RollupRow]
                    ) -> list[RollupRow]:
    """Rows of a coarser tier from the rows of a finer one (each wholly inside one window)."""
    groups: dict[int, list[RollupRow]] = {}
    for row in sorted(lower, key=lambda r: r.start_ns):
        groups.setdefault(floor_to(row.start_ns, width_ns), []).append(row)
    return [combine(key, start, rows) for start, rows in sorted(groups.items())]


def combine(key: SeriesKey, start: int, rows: Sequence[RollupRow]) -> RollupRow:
    """One row for a window from the rows of its parts, in time order."""
    with_values = [r for r in rows if r.count]
    energies = [r.energy for r in rows if r.energy is not None]
    energy = float(sum(energies)) if energies else None
    count_all = sum(r.count_all for r in rows)
    if not with_values:
        return RollupRow(key, start, count_all, 0, 0.0, energy=energy)
    head, tail = with_values[0], with_values[-1]
    return RollupRow(
        key, start, count_all, sum(r.count for r in with_values),
        float(sum(r.total for r in with_values)),
        min(r.minimum for r in with_values if r.minimum is not None),
        max(r.maximum for r in with_values if r.maximum is not None),
        head.first_ns, head.first, tail.last_ns, tail.last, energy,
    )
