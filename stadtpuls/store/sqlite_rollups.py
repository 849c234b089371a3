"""The roll-up side of `SQLiteStore`: one table per tier, coverage, retention, raw points.

Layout: `rollup_15m`, `rollup_1h`, `rollup_1d`, each keyed by (site, sensor, quantity,
start_ns) like the readings table, so writing a row again is an upsert; `rollup_coverage`
holds each tier's "complete from" time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.planning import Partial
from stadtpuls.rollup.tiers import TIERS, RollupRow, Tier
from stadtpuls.store.errors import StoreUnavailable
from stadtpuls.store.planned import TierPlannedAggregate
from stadtpuls.store.protocol import Point

_COLUMNS = ("count_all", "count", "total", "minimum", "maximum", "first_ns", "first",
            "last_ns", "last", "energy")

ROLLUP_SCHEMA = "".join(
    f"""
CREATE TABLE IF NOT EXISTS {tier.table} (
    site TEXT NOT NULL, sensor TEXT NOT NULL, quantity TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    count_all INTEGER NOT NULL, count INTEGER NOT NULL, total REAL NOT NULL,
    minimum REAL, maximum REAL, first_ns INTEGER, first REAL, last_ns INTEGER, last REAL,
    energy REAL,
    PRIMARY KEY (site, sensor, quantity, start_ns)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {tier.table}_by_time ON {tier.table} (start_ns);
""" for tier in TIERS
) + """
CREATE TABLE IF NOT EXISTS rollup_coverage (tier TEXT PRIMARY KEY, from_ns INTEGER NOT NULL);
"""


class SQLiteRollups(TierPlannedAggregate):
    """Mixed into `SQLiteStore`, which provides the connection and the error mapping."""

    path: str
    _conn: Callable[[], sqlite3.Connection]
    _query: Callable[[str, Sequence[object]], list[tuple[Any, ...]]]

    def _execute(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        conn = self._conn()
        try:
            with conn:
                conn.executemany(sql, rows)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"SQLite store {self.path} cannot take writes: {exc}; "
                                   "check free disk space and permissions") from None

    def points(self, keys: Sequence[SeriesKey], start_ns: int, end_ns: int
               ) -> dict[SeriesKey, list[Point]]:
        out: dict[SeriesKey, list[Point]] = {}
        for key in dict.fromkeys(keys):
            rows = self._query(
                "SELECT time_ns, value, implausible FROM readings WHERE site = ? AND "
                "sensor = ? AND quantity = ? AND time_ns >= ? AND time_ns < ? ORDER BY time_ns",
                (key.site, key.sensor, key.quantity.value, start_ns, end_ns))
            if rows:
                out[key] = [(t, float(v), bool(bad)) for t, v, bad in rows]
        return out

    def write_rollups(self, tier: Tier, rows: Sequence[RollupRow]) -> None:
        cols = ", ".join(_COLUMNS)
        marks = ", ".join("?" * (4 + len(_COLUMNS)))
        sql = (f"INSERT OR REPLACE INTO {tier.table} (site, sensor, quantity, start_ns, {cols}) "
               f"VALUES ({marks})")
        self._execute(sql, [
            (r.key.site, r.key.sensor, r.key.quantity.value, r.start_ns, r.count_all, r.count,
             r.total, r.minimum, r.maximum, r.first_ns, r.first, r.last_ns, r.last, r.energy)
            for r in rows
        ])

    def rollups(self, tier: Tier, keys: Sequence[SeriesKey], start_ns: int, end_ns: int
                ) -> dict[SeriesKey, list[RollupRow]]:
        out: dict[SeriesKey, list[RollupRow]] = {}
        for key in dict.fromkeys(keys):
            rows = self._query(
                f"SELECT start_ns, {', '.join(_COLUMNS)} FROM {tier.table} WHERE site = ? AND "
                "sensor = ? AND quantity = ? AND start_ns >= ? AND start_ns < ? "
                "ORDER BY start_ns",
                (key.site, key.sensor, key.quantity.value, start_ns, end_ns))
            if rows:
                out[key] = [RollupRow(key, *row) for row in rows]
        return out

    def coverage(self) -> Mapping[Tier, int]:
        return {Tier(t): f for t, f in self._query(
            "SELECT tier, from_ns FROM rollup_coverage", ())}

    def set_coverage(self, tier: Tier, from_ns: int) -> None:
        self._execute("INSERT OR REPLACE INTO rollup_coverage (tier, from_ns) VALUES (?, ?)",
                      [(tier.value, from_ns)])

    def delete_before(self, tier: Tier | None, before_ns: int, *, dry_run: bool = False
                      ) -> int:
        table, column = ("readings", "time_ns") if tier is None else (tier.table, "start_ns")
        where = f"FROM {table} WHERE {column} < ?"
        found = int(self._query(f"SELECT COUNT(*) {where}", (before_ns,))[0][0])
        if found and not dry_run:
            self._execute(f"DELETE {where}", [(before_ns,)])
        return found

    def _tier_partials(
        self, tier: Tier, keys: Sequence[SeriesKey], a_ns: int, b_ns: int, window_ns: int,
        offset_ns: int, plausible_only: bool, need_last: bool, energy: bool,
    ) -> dict[SeriesKey, dict[int, Partial]]:
        count = "count" if plausible_only else "count_all"
        window = "(start_ns - ((((start_ns - ?) % ?) + ?) % ?))"
        wparams = (offset_ns, window_ns, window_ns, window_ns)
        has = "energy IS NOT NULL" if energy else f"{count} > 0"
        where = (f"FROM {tier.table} WHERE site = ? AND sensor = ? AND quantity = ? "
                 f"AND start_ns >= ? AND start_ns < ? AND {has} GROUP BY w")
        out: dict[SeriesKey, dict[int, Partial]] = {}
        for key in dict.fromkeys(keys):
            params = (*wparams, key.site, key.sensor, key.quantity.value, a_ns, b_ns)
            if energy:
                sums = self._query(f"SELECT {window} AS w, SUM(energy) {where}", params)
                if sums:
                    out[key] = {w: Partial(0, 0.0, None, None, None, float(wh))
                                for w, wh in sums}
                continue
            windows = {
                w: Partial(int(n), float(total), mn, mx, None)
                for w, n, total, mn, mx in self._query(
                    f"SELECT {window} AS w, SUM({count}), SUM(total), MIN(minimum), "
                    f"MAX(maximum) {where}", params)
            }
            if need_last:
                # The row holding MAX(start_ns) gives the bare column (as for readings).
                for w, _, last in self._query(
                        f"SELECT {window} AS w, MAX(start_ns), last {where}", params):
                    windows[w].last = last
            if windows:
                out[key] = windows
        return out
