"""Which series changed since the last roll-up round: marked after every durable write.

`DirtyMarkingWriter` wraps the store the ingest writes to (delivery and the spool drainer
alike), so readings count as changed only once they are in the store, late and spooled ones
included. Marking must not slow the hot path: `mark` appends the batch to a queue (O(1)); the
roll-up worker folds queued batches when it takes them: a late reading into its series' time
range, a live one (`live_from`) into one span for all series.
Bounded: at most `max_readings` readings in queued batches (beyond that the writer folds the
queue and its batch itself: a stalled worker must not keep every batch of the hour alive) and
`max_series` ranges (beyond that one range for "every series", resolved by the worker through
the store's counts); a series not written for a whole round gives its place up.
"""

from __future__ import annotations

import threading
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store.protocol import StoreWriter
from stadtpuls.units import Quantity

DEFAULT_MAX_READINGS = 500_000  # a 30-s round at 15,000 readings/s, with room to spare
DEFAULT_MAX_SERIES = 200_000
_CLEAN = (2**63 - 1, -(2**63))  # (earliest, latest) of a series not written since the round


@dataclass
class Changes:
    """Per series the [earliest, latest] reading time written; `everything`: a range for all."""

    ranges: dict[SeriesKey, tuple[int, int]] = field(default_factory=dict)
    everything: tuple[int, int] | None = None

    def __bool__(self) -> bool:
        return bool(self.ranges) or self.everything is not None


class DirtySeries:
    def __init__(self, max_readings: int = DEFAULT_MAX_READINGS,
                 max_series: int = DEFAULT_MAX_SERIES) -> None:
        self._queued: deque[Sequence[Reading]] = deque()
        self._queued_readings = 0
        # Two writers (delivery, spool drainer) mark and the worker takes: the count needs its
        # own lock, held for an addition (the fold's `_lock` can be held for a whole queue).
        self._count_lock = threading.Lock()
        self._max_readings = max_readings
        self._max_series = max_series
        self._lock = threading.Lock()
        # Kept across rounds, reset to `_CLEAN` by `take`: a city's series report every round,
        # and a fresh table each round re-inserted all of them (with 10,000 series the fold
        # cost twice that of 41; cachegrind, docs/benchmarks.md, session 7). Two int64 in an
        # array, not a list of ints: no int objects to reach or free per reading.
        self._ranges: dict[tuple[str, str, Quantity], array[int]] = {}
        self._everything: list[int] | None = None
        self._live_from = _CLEAN[0]  # no reading is live until `live_from` says so

    def mark(self, readings: Sequence[Reading]) -> None:
        with self._count_lock:
            queue = self._queued_readings + len(readings) <= self._max_readings
            if queue:
                self._queued_readings += len(readings)
        if queue:
            self._queued.append(readings)
            return
        # Over the bound (a round stalled, or more than the bound arrives per period): fold
        # the whole queue at once, as `take` would, so a series' range stays in cache across
        # its readings (one batch at a time, each reading's look-up found it cold).
        with self._lock:
            self._fold_queued_locked()
            self._fold(readings)

    def live_from(self, time_ns: int) -> None:
        """From now on, readings at or after `time_ns` count in `everything`, not per series.

        The worker sets the start of the open quarter hour: it rebuilds those windows for
        every series with readings in them once they close, changed or not. A city's live
        readings then cost the fold a comparison each instead of a look-up in a table of
        every series (cachegrind, docs/benchmarks.md, session 7); late ones stay per series.
        """
        with self._lock:
            self._live_from = time_ns

    def take(self) -> Changes:
        """Everything marked so far, folded; the marks start empty again."""
        changed: dict[SeriesKey, tuple[int, int]] = {}
        idle: list[tuple[str, str, Quantity]] = []
        with self._lock:
            self._fold_queued_locked()
            for ident, span in self._ranges.items():
                if span[0] > span[1]:
                    idle.append(ident)
                else:
                    changed[SeriesKey(*ident)] = (span[0], span[1])
                    span[0], span[1] = _CLEAN
            for ident in idle:  # quiet for a whole round: its place goes to others
                del self._ranges[ident]
            everything, self._everything = self._everything, None
        return Changes(changed, None if everything is None else (everything[0], everything[1]))

    def _fold_queued_locked(self) -> None:
        while self._queued:
            batch = self._queued.popleft()
            with self._count_lock:
                self._queued_readings -= len(batch)
            self._fold(batch)

    def _fold(self, readings: Sequence[Reading]) -> None:
        ranges = self._ranges
        live_from = self._live_from
        lo, hi = _CLEAN  # of the readings that count for every series
        for r in readings:
            t = r.time_ns
            if t >= live_from:
                if t < lo:
                    lo = t
                if t > hi:
                    hi = t
                continue
            ident = (r.site, r.sensor, r.quantity)
            span = ranges.get(ident)
            if span is not None:
                if t < span[0]:
                    span[0] = t
                if t > span[1]:  # not `elif`: a clean span is (max, min)
                    span[1] = t
            elif len(ranges) < self._max_series:
                ranges[ident] = array("q", (t, t))
            else:
                lo, hi = min(lo, t), max(hi, t)
        if lo > hi:
            return
        if self._everything is None:
            self._everything = [lo, hi]
        else:
            self._everything[0] = min(self._everything[0], lo)
            self._everything[1] = max(self._everything[1], hi)


class DirtyMarkingWriter:
    """A `StoreWriter` that marks what it wrote, after the store accepted it."""

    def __init__(self, inner: StoreWriter, dirty: DirtySeries) -> None:
        self.inner = inner
        self.dirty = dirty

    def write(self, readings: Sequence[Reading]) -> None:
        self.inner.write(readings)
        self.dirty.mark(readings)

    def close(self) -> None:
        self.inner.close()
