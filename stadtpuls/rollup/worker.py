"""Recomputing roll-up windows, and the worker thread that keeps them current.

`Recomputer.recompute(ranges)` rebuilds, per series, every 15-minute window that readings in
the range touch (from raw readings), then the hourly windows holding those (from the
15-minute rows) and the daily ones (from the hourly rows). Energy and power reach further:
a reading changes the increment or segment that ends at the next reading, so their range is
extended by one window or two intervals. Queries are bounded: at most `KEYS_PER_QUERY`
series of one quantity and `CHUNKS[tier]` of time each.

`RollupWorker` (a thread in the ingest, off the hot path) starts with a catch-up over the
last `catchup_s` (what a crash may have left undone), then every `period_s` takes the
changed series from `DirtySeries` and recomputes their windows that have closed, each tier
once its window is over (the changes in open windows wait, per tier, until they close; at
stop they are computed as they are); what a failed round (store down) did not write is
retried. Once an hour it applies the retention.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from stadtpuls.energy_math import max_power_gap_s
from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.compute import estimate_interval_s, rows_from_lower, rows_from_points
from stadtpuls.rollup.dirty import Changes, DirtySeries
from stadtpuls.rollup.retention import RetentionPolicy, apply_retention
from stadtpuls.rollup.tiers import TIERS, RollupRow, Tier, ceil_to, floor_to
from stadtpuls.store.errors import StoreError
from stadtpuls.store.protocol import RollupStore
from stadtpuls.timebase import MAX_NS, NS_PER_S
from stadtpuls.units import Quantity

log = logging.getLogger("stadtpuls.rollup")

KEYS_PER_QUERY = 100
_DAY = 86_400 * NS_PER_S
CHUNKS = {Tier.M15: _DAY, Tier.H1: 30 * _DAY, Tier.D1: 366 * _DAY}
"""Time per query for `KEYS_PER_QUERY` series; fewer series get proportionally more (up to
30 times), so a backfill of a few series does not pay a round trip per day."""
WRITE_ROWS = 20_000
METER_LOOKBACK_NS = _DAY
"""A meter's first increment in a window is measured from the last reading up to a day before."""
DEFAULT_INTERVAL_S = 60.0

IntervalOf = Callable[[SeriesKey], float | None]


class Recomputer:
    def __init__(self, store: RollupStore, interval_of: IntervalOf = lambda _: None,
                 policy: RetentionPolicy | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.interval_of = interval_of
        self.policy = policy or RetentionPolicy({})
        self.clock = clock

    def recompute(self, ranges: Mapping[SeriesKey, tuple[int, int]]) -> int:
        """Rebuild every window touched by readings in [lo, hi] per series; rows written."""
        return self.recompute_closed(dict.fromkeys(TIERS, ranges), None)

    def recompute_closed(self, pending: dict[Tier, Mapping[SeriesKey, tuple[int, int]]],
                         closed_by_ns: int | None) -> int:
        """Per tier, rebuild the windows touched by its ranges that closed by `closed_by_ns`
        (None: all, open ones too), tier after tier; rows written.

        `pending[tier]` is replaced, once the tier's rows are written, by what is left: per
        series the part in still-open windows, as a range whose `lo` is where those start
        (it may lie after `hi` when only the reach of a power or energy reading extends into
        them). A store error leaves the tiers not yet written as they were."""
        now = int(self.clock() * NS_PER_S)
        written = 0
        for tier in TIERS:
            ranges = pending.get(tier, {})
            if not ranges:
                continue
            limit = MAX_NS if closed_by_ns is None else floor_to(closed_by_ns, tier.width_ns)
            floor_ns = ceil_to(self.policy.source_kept_from(tier, now), tier.width_ns)
            groups: dict[tuple[Quantity, int, int], list[SeriesKey]] = {}
            left: dict[SeriesKey, tuple[int, int]] = {}
            for key, (lo, hi) in ranges.items():
                a, b = self._span(key, lo, hi)
                a2, b2 = max(floor_to(a, tier.width_ns), floor_ns), ceil_to(b, tier.width_ns)
                if b2 > limit:
                    left[key] = (max(lo, limit + 1), hi)
                    b2 = limit
                if a2 < b2:
                    groups.setdefault((key.quantity, a2, b2), []).append(key)
            written += self._write_tier(tier, groups)
            pending[tier] = left
        return written

    def _span(self, key: SeriesKey, lo: int, hi: int) -> tuple[int, int]:
        """The 15-minute windows readings in [lo, hi] change (with a power or energy
        reading's reach into the next ones)."""
        width = Tier.M15.width_ns
        reach = self._reach_ns(key)
        return floor_to(lo - 1, width), floor_to(min(hi + reach, MAX_NS - width),
                                                 width) + width

    def _write_tier(self, tier: Tier, groups: Mapping[tuple[Quantity, int, int],
                                                      list[SeriesKey]]) -> int:
        # Rows wait across parts up to WRITE_ROWS: 10,000 changed series made 100 writes
        # of 100 rows per tier (1.2 s of influxd CPU for the three tiers). All of a tier
        # is written before the next tier reads it.
        written = 0
        pending: list[RollupRow] = []
        for (_, a, b), keys in groups.items():
            for i in range(0, len(keys), KEYS_PER_QUERY):
                part = keys[i:i + KEYS_PER_QUERY]
                chunk = _chunk_ns(tier, len(part))
                for t0 in range(a, b, chunk):
                    pending += self._compute(tier, part, t0, min(b, t0 + chunk))
                    if len(pending) >= WRITE_ROWS:
                        self.store.write_rollups(tier, pending)
                        written += len(pending)
                        pending = []
        if pending:
            self.store.write_rollups(tier, pending)
            written += len(pending)
        return written

    def _reach_ns(self, key: SeriesKey) -> int:
        if key.quantity not in (Quantity.ENERGY, Quantity.POWER):
            return 0
        interval = self.interval_of(key) or DEFAULT_INTERVAL_S
        return max(Tier.M15.width_ns, int(max_power_gap_s(interval) * NS_PER_S))

    def _compute(self, tier: Tier, keys: Sequence[SeriesKey], t0: int, t1: int
                 ) -> list[RollupRow]:
        rows: list[RollupRow] = []
        finer = tier.finer
        if finer is not None:
            lower = self.store.rollups(finer, keys, t0, t1)
            for key in keys:
                rows += rows_from_lower(key, tier.width_ns, lower.get(key, []))
            return rows
        quantity = keys[0].quantity
        intervals = {k: self.interval_of(k) for k in keys}
        longest = max((i or DEFAULT_INTERVAL_S) for i in intervals.values())
        if quantity is Quantity.ENERGY:
            before, after = METER_LOOKBACK_NS, 1
        elif quantity is Quantity.POWER:
            before = after = int(max_power_gap_s(longest) * NS_PER_S) + 1
        else:
            before = after = 0
        points = self.store.points(keys, t0 - before, t1 + after)
        for key in keys:
            found = points.get(key, [])
            interval = intervals[key] or estimate_interval_s(found, DEFAULT_INTERVAL_S)
            rows += rows_from_points(key, tier.width_ns, found, t0, t1, interval)
        return rows


def _chunk_ns(tier: Tier, keys: int) -> int:
    return CHUNKS[tier] * max(1, min(30, KEYS_PER_QUERY // max(1, keys)))


def catch_up_ranges(store: RollupStore, start_ns: int, end_ns: int
                    ) -> dict[SeriesKey, tuple[int, int]]:
    """Every series with readings in [start, end), with that whole range."""
    return {key: (start_ns, end_ns - 1) for key in store.counts(start_ns, end_ns)}


def widen_coverage(store: RollupStore, from_ns: int) -> None:
    """Record that every tier is complete from `from_ns` (rounded up to its windows) on."""
    have = store.coverage()
    for tier in TIERS:
        start = ceil_to(from_ns, tier.width_ns)
        if tier not in have or have[tier] > start:
            store.set_coverage(tier, start)


class RollupWorker:
    """Keeps the tiers current in the ingest process (see the module docstring)."""

    def __init__(self, recomputer: Recomputer, dirty: DirtySeries, *,
                 period_s: float = 30.0, catchup_s: float = 6 * 3_600,
                 retention_every_s: float = 3_600.0, retention: bool = True) -> None:
        self.recomputer = recomputer
        self.dirty = dirty
        self.period_s = period_s
        self.catchup_s = catchup_s
        self.retention_every_s = retention_every_s
        self.retention = retention
        self.rounds = 0
        self.rows_written = 0
        self.caught_up = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._held = Changes()
        self._open: dict[Tier, Mapping[SeriesKey, tuple[int, int]]] = {t: {} for t in TIERS}
        """Per tier, changes in windows not yet closed: rebuilt once they close."""
        self._next_retention = 0.0
        self._thread = threading.Thread(target=self._run, name="rollup-worker", daemon=True)

    @property
    def store(self) -> RollupStore:
        return self.recomputer.store

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        """Run a round now (tests, shutdown)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """One last round for what was marked, then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set() and not self._catch_up():
            self._wake.wait(self.period_s)
        while True:
            self._wake.wait(self.period_s)
            self._wake.clear()
            stopping = self._stop.is_set()
            self.round(final=stopping)
            if stopping:
                return

    def _catch_up(self) -> bool:
        now = int(self.recomputer.clock() * NS_PER_S)
        start = floor_to(now - int(self.catchup_s * NS_PER_S), Tier.M15.width_ns)
        try:
            ranges = catch_up_ranges(self.store, start, now + 1)
            self.rows_written += self.recomputer.recompute(ranges)
            widen_coverage(self.store, start)
        except StoreError as exc:
            log.warning("roll-up catch-up failed, will retry: %s", exc)
            return False
        self.dirty.live_from(floor_to(now, Tier.M15.width_ns))
        log.info("roll-ups caught up over the last %.0f h (%d series)", self.catchup_s / 3600,
                 len(ranges))
        self.caught_up.set()
        return True

    def round(self, *, final: bool = False) -> None:
        """Recompute the closed windows of what changed (and what a failed round left);
        `final` (at stop): the open ones too.

        Nobody reads a window's row before it closed (queries read raw readings for windows
        closed less than `planning.SETTLE_NS` ago), so rebuilding open windows every round
        was work thrown away: with 10,000 live series, 7 s of every 30 (8 s of influxd CPU),
        measured by bench/bench_rollup_round.py."""
        self.rounds += 1
        now = int(self.recomputer.clock() * NS_PER_S)
        open_from = floor_to(now, Tier.M15.width_ns)
        self.dirty.live_from(open_from)
        changes = _merged(self._held, self.dirty.take())
        self._held = Changes()
        ranges: Mapping[SeriesKey, tuple[int, int]] = changes.ranges
        if changes.everything is not None:
            # A span for every series waits until its quarter hours close: then the store
            # says which series have readings there, once, for all tiers.
            lo, hi = changes.everything
            end = hi + 1 if final else min(hi + 1, open_from)
            if lo < end:
                try:
                    found = self.store.counts(lo, end)
                except StoreError as exc:
                    self._held = changes
                    log.warning("roll-up round failed, kept for the next one: %s", exc)
                    return
                ranges = _union(ranges, dict.fromkeys(found, (lo, end - 1)))
            if end <= hi:
                self._held = Changes(everything=(max(lo, end), hi))
        if ranges:
            for tier in TIERS:
                self._open[tier] = _union(self._open[tier], ranges)
        closed_by = None if final else now
        try:
            # A tier whose rows were written keeps only its open windows; a failure leaves
            # the others as they were, for the next round.
            self.rows_written += self.recomputer.recompute_closed(self._open, closed_by)
            self._maybe_apply_retention()
        except StoreError as exc:
            log.warning("roll-up round failed, kept for the next one: %s", exc)
        except Exception:
            log.exception("roll-up round failed unexpectedly, kept for the next one")

    def _maybe_apply_retention(self) -> None:
        if not self.retention or time.monotonic() < self._next_retention:
            return
        self._next_retention = time.monotonic() + self.retention_every_s
        now = int(self.recomputer.clock() * NS_PER_S)
        for name, (cut, rows) in apply_retention(self.store, self.recomputer.policy,
                                                 now).items():
            if rows:
                log.info("retention: deleted %d %s rows before %d", rows, name, cut)


def _merged(a: Changes, b: Changes) -> Changes:
    if not a:
        return b
    ranges = _union(a.ranges, b.ranges)
    spans: Iterable[tuple[int, int]] = [s for s in (a.everything, b.everything) if s]
    everything = None
    for lo, hi in spans:
        everything = (lo, hi) if everything is None else (min(everything[0], lo),
                                                          max(everything[1], hi))
    return Changes(ranges, everything)


def _union(a: Mapping[SeriesKey, tuple[int, int]], b: Mapping[SeriesKey, tuple[int, int]]
           ) -> dict[SeriesKey, tuple[int, int]]:
    """Per series the range covering both (a new dict)."""
    out = dict(a)
    for key, (lo, hi) in b.items():
        old = out.get(key, (lo, hi))
        out[key] = (min(old[0], lo), max(old[1], hi))
    return out
