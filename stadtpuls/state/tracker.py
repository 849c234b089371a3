"""`StateTracker`: per-series buckets kept as readings become durable, and snapshot rows.

Per series a ring of `BUCKET_S` buckets spanning `RING_S` (plus two, so readings a little
ahead of now do not evict the oldest bucket a window needs) holds COUNT, MIN and MAX, in
one `array` per series: about 4.6 KB per series, 46 MB for 10,000, bounded by
`max_series`. Adding a reading is a dict look-up and a few array stores; a snapshot sums at
most 146 buckets per series. Readings are counted by their own time, so late and spooled
readings land in the bucket they belong to whenever they are delivered.

`dump` / `load` keep the buckets in a file in the ingest's data directory, so a restarted
ingest goes on counting where it stopped (see docs/architecture.md on what a crash loses).
"""

from __future__ import annotations

import json
import os
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.state.rows import (
    BUCKET_NS,
    BUCKET_S,
    RING_S,
    StateRow,
    WindowFigures,
    answerable,
    window_end_ns,
)
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity

SLOTS = RING_S // BUCKET_S + 2
MAX_SERIES = 100_000
_FORMAT = 2  # 1: four columns per series (read on load, written no more)

Windows = Callable[[SeriesKey], tuple[float | None, float | None]]
"""(completeness window, stuck window) of a series in seconds; None: not wanted."""


def _no_windows(_key: SeriesKey) -> tuple[float | None, float | None]:
    return None, None


class _Series:
    """One series' ring: per slot (bucket id, count, min, max), interleaved in one array.

    Interleaved because with 10,000 series each reading reaches a bucket no other reading
    touched lately: one cache line instead of four, one array instead of four (cachegrind,
    docs/benchmarks.md). Bucket ids and counts are exact as doubles (below 2**53)."""

    __slots__ = ("newest", "ring")

    def __init__(self) -> None:
        self.newest: Reading | None = None
        self.ring = array("d", [-1.0, 0.0, 0.0, 0.0]) * SLOTS

    def figures(self, end_bucket: int, window_s: int, *, extremes: bool) -> WindowFigures:
        # Bucket ids are doubles in the ring: compare doubles with doubles (an int on one
        # side takes CPython's slow mixed-type path).
        first = float(end_bucket - window_s // BUCKET_S)
        end = float(end_bucket)
        n = 0
        lo = float("inf")
        hi = float("-inf")
        ring = self.ring
        # A strided copy of the ids is one C loop; indexing the ring slot by slot in Python
        # made a snapshot of 10,000 series take 0.3-0.7 s instead of 0.2.
        for slot, b in enumerate(ring[0::4]):
            if first <= b < end:
                i = 4 * slot
                n += int(ring[i + 1])
                if extremes:
                    lo = min(lo, ring[i + 2])
                    hi = max(hi, ring[i + 3])
        if not n or not extremes:
            return WindowFigures(window_s, n)
        return WindowFigures(window_s, n, lo, hi)


class StateTracker:
    """Thread-safe: the writer and the spool drainer add, the state keeper snapshots."""

    def __init__(self, windows: Windows = _no_windows, *, max_series: int = MAX_SERIES,
                 covered_from_ns: int = 0) -> None:
        self._windows = windows
        self.max_series = max_series
        self.covered_from_ns = covered_from_ns
        """From when on the tracker has seen every stored reading: window figures are given
        only for windows that start there or later (readers ask the store for the others).
        0: everything (a fresh store); the ingest moves it to its start when the store
        already held readings it never saw (`ingest.state_keeper`)."""
        self._series: dict[tuple[str, str, Quantity], _Series] = {}
        self._lock = threading.Lock()
        self.untracked = 0
        """Readings of series beyond `max_series` (readers ask the store for those)."""

    def __len__(self) -> int:
        return len(self._series)

    def add(self, readings: Sequence[Reading]) -> None:
        """Count readings the store now holds (reserved sites, `_…`, are not sensors)."""
        with self._lock:
            series = self._series
            for r in readings:
                ident = (r.site, r.sensor, r.quantity)
                s = series.get(ident)
                if s is None:
                    if r.site.startswith("_"):
                        continue
                    if len(series) >= self.max_series:
                        self.untracked += 1
                        continue
                    s = series[ident] = _Series()
                if s.newest is None or r.time_ns >= s.newest.time_ns:
                    s.newest = r
                bucket = r.time_ns // BUCKET_NS
                i = (bucket % SLOTS) * 4
                b = float(bucket)  # the ring holds doubles: no mixed int/float comparisons
                ring = s.ring
                held = ring[i]
                v = r.value
                if held == b:
                    ring[i + 1] += 1.0
                    if v < ring[i + 2]:
                        ring[i + 2] = v
                    if v > ring[i + 3]:
                        ring[i + 3] = v
                elif held < b:
                    ring[i] = b
                    ring[i + 1] = 1.0
                    ring[i + 2] = v
                    ring[i + 3] = v
                # else: older than the ring spans; no window needs it.

    def rows(self, client: str, at_ns: int) -> list[StateRow]:
        """One row per tracked series, windows ending at `window_end_ns(at_ns)`."""
        end = window_end_ns(at_ns)
        end_bucket = end // BUCKET_NS
        out: list[StateRow] = []
        with self._lock:
            for (site, sensor, quantity), s in self._series.items():
                key = SeriesKey(site, sensor, quantity)
                full_s, stuck_s = self._windows(key)
                full = (s.figures(end_bucket, int(full_s), extremes=False)
                        if full_s is not None and self._answers(end, full_s) else None)
                stuck = (s.figures(end_bucket, int(stuck_s), extremes=True)
                         if stuck_s is not None and self._answers(end, stuck_s) else None)
                out.append(StateRow(client, key, at_ns, end, s.newest, full, stuck))
        return out

    def _answers(self, end_ns: int, window_s: float) -> bool:
        return answerable(window_s) and end_ns - int(window_s) * NS_PER_S >= self.covered_from_ns

    # -- persistence ----------------------------------------------------------------------

    def dump(self, path: Path) -> None:
        """Write the buckets to `path` atomically (a temporary file, then rename)."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        with self._lock:
            head = [[site, sensor, q.value, *_newest_fields(s.newest)]
                    for (site, sensor, q), s in self._series.items()]
            blobs = [s.ring.tobytes() for s in self._series.values()]
        header = json.dumps({"format": _FORMAT, "slots": SLOTS, "bucket_s": BUCKET_S,
                             "covered_from_ns": self.covered_from_ns, "series": head}).encode()
        with open(tmp, "wb") as f:
            f.write(len(header).to_bytes(8, "little"))
            f.write(header)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def load(self, path: Path) -> int:
        """Take over the buckets `dump` wrote; returns the number of series (0: no file, or
        one written with other bucket settings, which is ignored)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return 0
        size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + size])
        version = header.get("format")
        if (version not in (1, _FORMAT) or header.get("slots") != SLOTS
                or header.get("bucket_s") != BUCKET_S
                or (version == 1 and header.get("count_size") != array("l").itemsize)):
            return 0
        pos = 8 + size
        read = _read_ring if version == _FORMAT else _read_columns
        loaded: dict[tuple[str, str, Quantity], _Series] = {}
        for site, sensor, q, t, v, implausible, unregistered in header["series"]:
            quantity = Quantity(q)
            s = _Series()
            if t is not None:
                s.newest = Reading(site, sensor, quantity, t, v, implausible, unregistered)
            pos = read(data, pos, s.ring)
            loaded[(site, sensor, quantity)] = s
        with self._lock:
            self._series = loaded
            # A file from before coverage was kept: its start is unknown, so from now on.
            self.covered_from_ns = int(header.get("covered_from_ns", time.time_ns()))
        return len(loaded)


def _read_ring(data: bytes, pos: int, ring: array[float]) -> int:
    end = pos + len(ring) * ring.itemsize
    ring[:] = array("d", data[pos:end])
    return end


def _read_columns(data: bytes, pos: int, ring: array[float]) -> int:
    """Format 1 (up to session 5): four columns, ids and counts as integers."""
    columns = []
    for typecode in ("q", "l", "d", "d"):
        end = pos + SLOTS * array(typecode).itemsize
        columns.append(array(typecode, data[pos:end]))
        pos = end
    for column, values in enumerate(columns):
        ring[column::4] = array("d", map(float, values))
    return pos


def _newest_fields(r: Reading | None) -> list[object]:
    if r is None:
        return [None, None, False, False]
    return [r.time_ns, r.value, r.implausible, r.unregistered]
