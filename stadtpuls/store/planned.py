"""`aggregate()` as both stores answer it: from a roll-up tier where one can, else raw.

One home for the dispatch (window check, ENERGY alone, the tier plan of
`stadtpuls.rollup.planning`); a store supplies its raw query, its tier query, its raw points
for energy and its tier coverage, and says whether the parts of a query may run at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext

from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.planning import Partial, answer, answer_energy
from stadtpuls.rollup.tiers import Tier
from stadtpuls.store.protocol import Aggregate, Point, WindowSeries


class TierPlannedAggregate:
    parallel_parts = False
    """Run a query's parts (raw head, tier, raw tail) at once: worth it for a server round
    trip each (InfluxDB), not for an embedded database (SQLite)."""

    def aggregate(
        self,
        series: Iterable[SeriesKey],
        start_ns: int,
        end_ns: int,
        window_ns: int,
        aggregates: Sequence[Aggregate],
        *,
        offset_ns: int = 0,
        exclude_implausible: bool = False,
    ) -> dict[SeriesKey, WindowSeries]:
        """Answered from a roll-up tier where one can (`stadtpuls.rollup.planning`)."""
        if window_ns <= 0:
            raise ValueError("window_ns must be positive")
        keys = list(dict.fromkeys(series))
        if Aggregate.ENERGY in aggregates:
            if len(aggregates) != 1:
                raise ValueError("Aggregate.ENERGY is asked alone")
            return answer_energy(
                self.points,
                lambda tier, a, b, _, __: self._tier_partials(tier, keys, a, b, window_ns,
                                                              offset_ns, True, False, True),
                self.coverage, keys, start_ns, end_ns, window_ns, offset_ns)
        with self._parts_pool() as pool:
            return answer(
                lambda lo, hi, aggs: self._raw_aggregate(keys, lo, hi, window_ns, aggs,
                                                         offset_ns, exclude_implausible),
                lambda tier, a, b, last, _: self._tier_partials(
                    tier, keys, a, b, window_ns, offset_ns, exclude_implausible, last, False),
                self.coverage, start_ns, end_ns, window_ns, offset_ns, aggregates,
                exclude_implausible, pool)

    def _parts_pool(self) -> AbstractContextManager[Executor | None]:
        # A pool per call, not per store: threads start only for a query with several parts,
        # and a worker thread that dies (it happened when a test harness killed threads)
        # cannot leave later queries waiting forever for a pool that no longer runs them.
        if not self.parallel_parts:
            return nullcontext(None)
        return ThreadPoolExecutor(max_workers=3, thread_name_prefix="store-parts")

    # What each store supplies.

    def _raw_aggregate(
        self, series: Sequence[SeriesKey], start_ns: int, end_ns: int, window_ns: int,
        aggregates: Sequence[Aggregate], offset_ns: int, exclude_implausible: bool,
    ) -> dict[SeriesKey, WindowSeries]:
        raise NotImplementedError

    def _tier_partials(
        self, tier: Tier, keys: Sequence[SeriesKey], a_ns: int, b_ns: int, window_ns: int,
        offset_ns: int, plausible_only: bool, need_last: bool, energy: bool,
    ) -> dict[SeriesKey, dict[int, Partial]]:
        raise NotImplementedError

    def points(self, keys: Sequence[SeriesKey], start_ns: int, end_ns: int
               ) -> dict[SeriesKey, list[Point]]:
        raise NotImplementedError

    def coverage(self) -> Mapping[Tier, int]:
        raise NotImplementedError
