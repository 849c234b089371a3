"""The store protocols: what ingest writes and the dashboard asks, whatever the database.

Two sides, so each component asks for no more than it uses: the ingest (and every other
producer of readings) needs a `StoreWriter`, the dashboard a `StoreReader`. `Store` is both;
it is what the implementations provide and what opening a configured store returns.

Both implementations (`SQLiteStore`, `InfluxStore`) pass one contract suite
(tests/test_store_contract.py), so the dashboard never needs to know which one it talks to.
Times are integer epoch nanoseconds, UTC; ranges are half-open [start, end).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.rollup.tiers import RollupRow, Tier

if TYPE_CHECKING:
    from stadtpuls.state.rows import StateRow


class Aggregate(StrEnum):
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    SUM = "sum"
    COUNT = "count"
    ENERGY = "energy"
    """Wh in the window, for energy (a meter's increase over (start, end], across resets)
    and power (integrated, never across a gap) only; asked alone; plausible readings only."""


@dataclass
class WindowSeries:
    """One series aggregated into windows: `times[i]` is the start of window i."""

    times: list[int] = field(default_factory=list)
    values: dict[Aggregate, list[float]] = field(default_factory=dict)


class StoreWriter(Protocol):
    """The writing side: what the ingest, the demo's backfill and dev data need."""

    def write(self, readings: Sequence[Reading]) -> None:
        """Store readings; same identity (series, time) overwrites, never doubles.

        Raises StoreUnavailable (retry later) or StoreRejected (bad data).
        """
        ...

    def close(self) -> None: ...


@runtime_checkable
class StoreReader(Protocol):
    """The reading side: what the dashboard (and later alerts and open data) need.

    Raises StoreUnavailable when the database cannot answer.
    """

    def latest(
        self, site: str | None = None, since_ns: int | None = None,
        until_ns: int | None = None, *, keys: Sequence[SeriesKey] | None = None,
    ) -> dict[SeriesKey, Reading]:
        """The newest reading of every series (of one site, in [since_ns, until_ns)).

        `until_ns` keeps a reading dated in the future from hiding the current one, and lets
        the alert evaluator and its preview look at the store as it was at a past instant.
        `keys` asks for these series only (none: every series); the answer may hold other
        quantities of the same site and sensor.
        """
        ...

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
        """Aggregate each series into windows of `window_ns`, aligned to epoch + offset_ns.

        Windows without readings are left out (gaps stay gaps). Series without any reading in
        the range are absent from the result.
        """
        ...

    def counts(
        self, start_ns: int, end_ns: int, site: str | None = None
    ) -> dict[SeriesKey, int]:
        """Number of readings per series in [start_ns, end_ns)."""
        ...

    def readings(
        self, series: SeriesKey, start_ns: int, end_ns: int, *, limit: int,
        descending: bool = False,
    ) -> list[Reading]:
        """The raw readings of one series in [start_ns, end_ns), ordered by time, at most `limit`.

        Oldest first, or newest first with `descending`. Times within a series are unique
        (a duplicate write overwrites), so "after the last time seen" is an exact
        continuation: the open-data API pages through a series with it (keyset paging).
        """
        ...

    def close(self) -> None: ...


class Store(StoreWriter, StoreReader, Protocol):
    """Both sides: the implementations (`SQLiteStore`, `InfluxStore`) and the contract suite."""


Point = tuple[int, float, bool]
"""(time_ns, value, implausible) of one raw reading."""


class RollupStore(Store, Protocol):
    """What the roll-up worker, backfill and retention need besides `Store`.

    Layout and rules: docs/architecture.md, "Roll-ups". A tier row's identity is (tier,
    series, window start): writing it again replaces it.
    """

    def points(self, keys: Sequence[SeriesKey], start_ns: int, end_ns: int
               ) -> dict[SeriesKey, list[Point]]:
        """Raw readings of these series (one quantity) in [start, end), in time order.

        Callers bound the range (the worker asks for at most a day at a time).
        """
        ...

    def write_rollups(self, tier: Tier, rows: Sequence[RollupRow]) -> None: ...

    def rollups(self, tier: Tier, keys: Sequence[SeriesKey], start_ns: int, end_ns: int
                ) -> dict[SeriesKey, list[RollupRow]]:
        """Rows of these series (one quantity) with start in [start, end), in time order."""
        ...

    def coverage(self) -> Mapping[Tier, int]:
        """Per tier: from when on it is complete (absent: not known to be complete)."""
        ...

    def set_coverage(self, tier: Tier, from_ns: int) -> None: ...

    def delete_before(self, tier: Tier | None, before_ns: int, *, dry_run: bool = False
                      ) -> int:
        """Delete raw readings (tier None) or a tier's rows timed before `before_ns`.

        Returns how many there were (counted first); `dry_run` only counts.
        """
        ...


@runtime_checkable
class SensorStateStore(Protocol):
    """Snapshot rows of sensor state (`stadtpuls.state`): the ingest writes its own, readers
    get every client's. A store without them makes readers fall back to raw queries."""

    def write_states(self, rows: Sequence[StateRow]) -> None:
        """Replace this client's rows (same client and series overwrite)."""
        ...

    def read_states(self, since_ns: int) -> list[StateRow]:
        """Every client's newest snapshot, when written at or after `since_ns`
        (`stadtpuls.state.rows.newest_snapshots`)."""
        ...
