"""Energy arithmetic, free of any store: cumulative meters and power integration.

Meters (Wh, cumulative): the energy between two readings is the increase of the count. A
drop to below half of the previous count is a meter reset (replacement, overflow, firmware):
the meter started again from zero, so the value after the drop is the energy since the reset.
Smaller steps back (a replayed or rounded reading) add nothing. Gaps between meter readings
are harmless: the count keeps running while nobody reads it.

Power (W, instantaneous): energy is the trapezoid between consecutive readings, but only
where they are at most `MAX_GAP_FACTOR` expected intervals apart. Across a longer gap nothing
is known, so nothing is integrated: bridging a two-hour outage with a straight line would
invent energy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESET_FRACTION = 0.5
MAX_GAP_FACTOR = 2.0
_GAP_TOLERANCE = 1.05  # jitter: a reading a few seconds late is not a gap


def meter_increments(values: Sequence[float]) -> list[float]:
    """Energy between consecutive readings of a cumulative meter (see module docstring)."""
    out: list[float] = []
    if not values:
        return out
    # After a small step back the count is measured from the highest value seen, so a
    # glitch (60, 59.9, 61) adds 1, not 1.1.
    ref = values[0]
    for cur in values[1:]:
        if cur >= ref:
            out.append(cur - ref)
            ref = cur
        elif cur < ref * RESET_FRACTION:
            out.append(cur)
            ref = cur
        else:
            out.append(0.0)
    return out


def meter_energy(values: Sequence[float]) -> float:
    """Energy counted by a meter over a run of readings, surviving resets."""
    return float(sum(meter_increments(values)))


def meter_window_energy(
    mins: Sequence[float],
    maxs: Sequence[float],
    lasts: Sequence[float],
    baseline: float | None = None,
) -> list[float]:
    """Energy per window from each window's MIN, MAX and LAST meter reading.

    Equivalent to summing `meter_increments` over the raw readings when a window holds at
    most one reset, which is what lets a year be computed from hourly or daily windows.
    `baseline` is the last reading before the first window (None: unknown, then the first
    window counts only its own increase).
    """
    out: list[float] = []
    prev = baseline
    for mn, mx, last in zip(mins, maxs, lasts, strict=True):
        if prev is None:
            energy, prev = max(mx - mn, 0.0), mx
        elif mn >= prev * RESET_FRACTION:
            energy, prev = max(mx - prev, 0.0), max(prev, mx)
        elif last < mx:
            # Reset inside the window: up to the peak before it, then from zero to last.
            energy, prev = max(mx - prev, 0.0) + last, last
        else:
            # The count after the reset is the window's highest: the reset came first.
            energy, prev = last, last
        out.append(energy)
    return out


def max_power_gap_s(interval_s: float) -> float:
    """The longest step between power readings that is still integrated (see docstring)."""
    return MAX_GAP_FACTOR * interval_s * _GAP_TOLERANCE


def power_segments(
    times_s: Sequence[float] | np.ndarray,
    watts: Sequence[float] | np.ndarray,
    interval_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid energy (Wh) of each pair of consecutive readings and the pair's midpoint.

    Pairs further apart than MAX_GAP_FACTOR × interval (a gap) contribute zero.
    """
    t = np.asarray(times_s, dtype=np.float64)
    p = np.asarray(watts, dtype=np.float64)
    if t.size < 2:
        return np.zeros(0), np.zeros(0)
    order = np.argsort(t, kind="stable")
    t, p = t[order], p[order]
    dt = np.diff(t)
    ok = dt <= max_power_gap_s(interval_s)
    wh = np.where(ok, (p[1:] + p[:-1]) / 2.0 * dt / 3600.0, 0.0)
    mid = (t[1:] + t[:-1]) / 2.0
    return wh, mid


def power_energy(
    times_s: Sequence[float] | np.ndarray,
    watts: Sequence[float] | np.ndarray,
    interval_s: float,
) -> float:
    """Energy in Wh from power readings, never integrating across a gap."""
    wh, _ = power_segments(times_s, watts, interval_s)
    return float(wh.sum())
