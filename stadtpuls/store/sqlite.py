"""`SQLiteStore`: the embedded store for the demo and small single-box sites.

WAL mode lets several processes read while one writes. Each thread gets its own connection,
because sqlite3 connections must not be shared across threads and a WSGI server serves
dashboard requests from a pool of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.sqlite_threads import ThreadConnections
from stadtpuls.state.rows import StateRow, newest_snapshots
from stadtpuls.store import state_codec
from stadtpuls.store.errors import StoreRejected, StoreUnavailable
from stadtpuls.store.protocol import Aggregate, WindowSeries
from stadtpuls.store.sqlite_rollups import ROLLUP_SCHEMA, SQLiteRollups
from stadtpuls.units import Quantity

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    site         TEXT    NOT NULL,
    sensor       TEXT    NOT NULL,
    quantity     TEXT    NOT NULL,
    time_ns      INTEGER NOT NULL,
    value        REAL    NOT NULL,
    implausible  INTEGER NOT NULL DEFAULT 0,
    unregistered INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, sensor, quantity, time_ns)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_by_time ON readings (time_ns);
CREATE TABLE IF NOT EXISTS sensor_state (
    client TEXT NOT NULL, site TEXT NOT NULL, sensor TEXT NOT NULL, quantity TEXT NOT NULL,
    at INTEGER NOT NULL, "end" INTEGER NOT NULL, t INTEGER, v REAL, imp INTEGER, unreg INTEGER,
    cw INTEGER, cn INTEGER, sw INTEGER, sn INTEGER, smin REAL, smax REAL,
    PRIMARY KEY (client, site, sensor, quantity)
) WITHOUT ROWID;
"""
_STATE_COLUMNS = ", ".join(f'"{c}"' for c in state_codec.COLUMNS)
_STATE_UPSERT = (f"INSERT OR REPLACE INTO sensor_state ({_STATE_COLUMNS}) "
                 f"VALUES ({', '.join('?' * len(state_codec.COLUMNS))})")

_UPSERT = """
INSERT INTO readings (site, sensor, quantity, time_ns, value, implausible, unregistered)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (site, sensor, quantity, time_ns) DO UPDATE SET
    value = excluded.value,
    implausible = excluded.implausible,
    unregistered = excluded.unregistered
"""

# What a write raises for the rows themselves, not for the state of the database file.
_BAD_DATA = (OverflowError, sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError,
             sqlite3.ProgrammingError, TypeError, ValueError)

# SQL aggregate per Aggregate; LAST has none and is computed by its own query.
_SQL_AGG = {
    Aggregate.MEAN: "AVG(value)",
    Aggregate.MIN: "MIN(value)",
    Aggregate.MAX: "MAX(value)",
    Aggregate.SUM: "SUM(value)",
    Aggregate.COUNT: "COUNT(value)",
}


class SQLiteStore(SQLiteRollups):
    """A `Store` in one SQLite file (or `:memory:` for a single connection's lifetime)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 10.0) -> None:
        self.path = str(path)
        self._timeout_s = timeout_s
        self._conns = ThreadConnections(self._open)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.executescript(_SCHEMA + ROLLUP_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        try:
            return self._conns.get()
        except sqlite3.ProgrammingError:
            # A thread still at work when the store was closed (a background refresh).
            raise StoreUnavailable(f"SQLite store {self.path} is closed") from None

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self._timeout_s, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: the ingest acks a message once this commit returns, so the commit must
            # survive a power cut too, not only a process crash (NORMAL in WAL mode can lose
            # the last transactions then).
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"cannot open SQLite store {self.path}: {exc}; check the path and its "
                "permissions"
            ) from None
        return conn

    def write(self, readings: Sequence[Reading]) -> None:
        rows = [
            (r.site, r.sensor, r.quantity.value, r.time_ns, r.value,
             int(r.implausible), int(r.unregistered))
            for r in readings
        ]
        if not rows:
            return
        conn = self._conn()
        try:
            with conn:
                conn.executemany(_UPSERT, rows)
        except _BAD_DATA as exc:
            # The data itself: an integer beyond 64 bits, a constraint, a type sqlite3 cannot
            # bind. Retrying the same rows can never succeed.
            raise StoreRejected(f"SQLite store {self.path} refused the batch: "
                                f"{type(exc).__name__}: {exc}") from None
        except (sqlite3.Error, OSError, MemoryError) as exc:
            # Locked, busy, disk full or read-only, I/O errors, a damaged file: the store,
            # not the data. Readings are spooled and an operator can act.
            raise StoreUnavailable(
                f"SQLite store {self.path} cannot take writes: {exc}; check free disk space, "
                "permissions, and that no other process holds a long write lock"
            ) from None

    def latest(
        self, site: str | None = None, since_ns: int | None = None,
        until_ns: int | None = None, *, keys: Sequence[SeriesKey] | None = None,
    ) -> dict[SeriesKey, Reading]:
        if keys is not None:
            # One indexed look-up per series: cheaper than grouping the whole table.
            found: dict[SeriesKey, Reading] = {}
            for key in keys:
                found.update(self._latest(site, since_ns, until_ns, key))
            return found
        return self._latest(site, since_ns, until_ns)

    def _latest(self, site: str | None, since_ns: int | None, until_ns: int | None,
                key: SeriesKey | None = None) -> dict[SeriesKey, Reading]:
        where, params = _filters(key=key, site=site, start_ns=since_ns, end_ns=until_ns)
        # SQLite documents that bare columns in a MAX() aggregate query come from the row
        # holding the maximum, which is exactly "the newest reading per series".
        sql = (
            "SELECT site, sensor, quantity, MAX(time_ns), value, implausible, unregistered "
            f"FROM readings {where} GROUP BY site, sensor, quantity"
        )
        out: dict[SeriesKey, Reading] = {}
        for site_, sensor, quantity, time_ns, value, implausible, unregistered in self._query(
            sql, params
        ):
            reading = Reading(site_, sensor, Quantity(quantity), time_ns, value,
                              bool(implausible), bool(unregistered))
            out[reading.key] = reading
        return out

    def _raw_aggregate(
        self, series: Sequence[SeriesKey], start_ns: int, end_ns: int, window_ns: int,
        aggregates: Sequence[Aggregate], offset_ns: int, exclude_implausible: bool,
    ) -> dict[SeriesKey, WindowSeries]:
        out: dict[SeriesKey, WindowSeries] = {}
        plain = [a for a in aggregates if a is not Aggregate.LAST]
        window = "(time_ns - ((((time_ns - ?) % ?) + ?) % ?))"
        for key in dict.fromkeys(series):
            where, params = _filters(key=key, start_ns=start_ns, end_ns=end_ns,
                                     plausible_only=exclude_implausible)
            by_window: dict[int, dict[Aggregate, float]] = {}
            wparams = [offset_ns, window_ns, window_ns, window_ns]
            if plain:
                cols = ", ".join(_SQL_AGG[a] for a in plain)
                sql = f"SELECT {window} AS w, {cols} FROM readings {where} GROUP BY w"
                for row in self._query(sql, [*wparams, *params]):
                    by_window[row[0]] = dict(zip(plain, map(float, row[1:]), strict=True))
            if Aggregate.LAST in aggregates:
                sql = (f"SELECT {window} AS w, MAX(time_ns), value "
                       f"FROM readings {where} GROUP BY w")
                for w, _, value in self._query(sql, [*wparams, *params]):
                    by_window.setdefault(w, {})[Aggregate.LAST] = float(value)
            if by_window:
                result = WindowSeries(values={a: [] for a in aggregates})
                for w in sorted(by_window):
                    result.times.append(w)
                    for a in aggregates:
                        result.values[a].append(by_window[w][a])
                out[key] = result
        return out

    def counts(
        self, start_ns: int, end_ns: int, site: str | None = None
    ) -> dict[SeriesKey, int]:
        where, params = _filters(site=site, start_ns=start_ns, end_ns=end_ns)
        sql = (f"SELECT site, sensor, quantity, COUNT(*) FROM readings {where} "
               "GROUP BY site, sensor, quantity")
        return {
            SeriesKey(s, n, Quantity(q)): c for s, n, q, c in self._query(sql, params)
        }

    def readings(
        self, series: SeriesKey, start_ns: int, end_ns: int, *, limit: int,
        descending: bool = False,
    ) -> list[Reading]:
        limit = _check_limit(limit)
        where, params = _filters(key=series, start_ns=start_ns, end_ns=end_ns)
        # The primary key (site, sensor, quantity, time_ns) serves both orders and the LIMIT.
        sql = (f"SELECT time_ns, value, implausible, unregistered FROM readings {where} "
               f"ORDER BY time_ns {'DESC' if descending else 'ASC'} LIMIT ?")
        return [Reading(series.site, series.sensor, series.quantity, t, v, bool(i), bool(u))
                for t, v, i, u in self._query(sql, [*params, limit])]
    def write_states(self, rows: Sequence[StateRow]) -> None:
        conn = self._conn()
        try:
            with conn:
                conn.executemany(_STATE_UPSERT, [state_codec.flat(r) for r in rows])
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"SQLite store {self.path} cannot take the sensor state: "
                                   f"{exc}; check free disk space and permissions") from None

    def read_states(self, since_ns: int) -> list[StateRow]:
        sql = f"SELECT {_STATE_COLUMNS} FROM sensor_state WHERE at >= ?"
        return newest_snapshots(row for values in self._query(sql, [since_ns])
                                if (row := state_codec.from_flat(values)) is not None)

    def _query(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite store {self.path} cannot be read: {exc}") from None

    def close(self) -> None:
        self._conns.close()


def _check_limit(limit: int) -> int:
    if not 0 < limit <= 1_000_000:
        raise ValueError(f"limit must be between 1 and 1000000, not {limit}")
    return int(limit)


def _filters(
    *,
    key: SeriesKey | None = None,
    site: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    plausible_only: bool = False,
) -> tuple[str, list[object]]:
    """A WHERE clause with placeholders only: values never enter the SQL text."""
    clauses: list[str] = []
    params: list[object] = []
    if key is not None:
        clauses.append("site = ? AND sensor = ? AND quantity = ?")
        params += [key.site, key.sensor, key.quantity.value]
    if site is not None:
        clauses.append("site = ?")
        params.append(site)
    if start_ns is not None:
        clauses.append("time_ns >= ?")
        params.append(start_ns)
    if end_ns is not None:
        clauses.append("time_ns < ?")
        params.append(end_ns)
    if plausible_only:
        clauses.append("implausible = 0")
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params
