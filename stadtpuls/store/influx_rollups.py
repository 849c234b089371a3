"""The roll-up side of `InfluxStore`: tier rows as measurements, coverage, retention.

Layout: tier rows live in the same bucket as the readings, measurement
`rollup_<tier>_<quantity>` (`rollup_1h_power`), tags `site` and `sensor`, fields `n_all`,
`n`, `total`, `vmin`, `vmax`, `first_ns`, `vfirst`, `last_ns`, `vlast` and (energy and power)
`energy`. A row is timed at its window's *index*, not its start: window k of a tier
(start = k × width) is stored at k seconds after the epoch (`stored_time`). So the 87,600
hourly rows of ten years lie within 25 hours of stored time, one shard on 1.x/2.x and a
handful of files on InfluxDB 3 (whose Core refuses queries over more than a few hundred
files), instead of spreading over the 520 weekly shards the raw readings fill. Queries map
their range and windows into that scale (a tier only answers windows that are whole tier
windows, so the mapping is exact). The bucket must therefore keep data forever (no
retention period): Stadtpuls applies retention itself. One bucket keeps one token and one
DBRP mapping, and works the same on 1.8+, 2.x and 3.x; a bucket per tier would need each to
be created and mapped. Coverage is measurement `rollup_coverage` (tag `tier`, field `from_ns`,
time 0).

Retention deletes with InfluxQL `DELETE FROM "m" WHERE time >= $lo AND time < $hi`
(InfluxDB 1.x); where `/query` refuses DELETE (2.x serves InfluxQL read-only), the same
bounded range goes to `/api/v2/delete` with the predicate `_measurement="m"`. InfluxDB 3
deletes no points: there, raw retention is the database's retention period (see
docs/operations.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import urllib3

from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.planning import Partial, window_of
from stadtpuls.rollup.tiers import RollupRow, Tier
from stadtpuls.store.errors import StoreRejected, StoreUnavailable
from stadtpuls.store.line_protocol import escape_tag, quote_ident
from stadtpuls.store.planned import TierPlannedAggregate
from stadtpuls.store.protocol import Point
from stadtpuls.timebase import MIN_NS, NS_PER_S
from stadtpuls.units import Quantity

_COVERAGE = "rollup_coverage"
_COVERAGE_TTL_S = 30.0
_FLOAT_FIELDS = (("total", "total"), ("vmin", "minimum"), ("vmax", "maximum"),
                 ("vfirst", "first"), ("vlast", "last"), ("energy", "energy"))
_INT_FIELDS = (("n_all", "count_all"), ("n", "count"), ("first_ns", "first_ns"),
               ("last_ns", "last_ns"))

def measurement(tier: Tier, quantity: Quantity) -> str:
    return f"{tier.table}_{quantity.value}"


def stored_time(tier: Tier, start_ns: int) -> int:
    """Where a tier row with this window start is stored (see the module docstring)."""
    return start_ns // tier.width_ns * NS_PER_S


def window_start(tier: Tier, stored_ns: int) -> int:
    return stored_ns // NS_PER_S * tier.width_ns


def encode_rows(tier: Tier, rows: Sequence[RollupRow]) -> str:
    lines = []
    for r in rows:
        fields = [f"{name}={getattr(r, attr)}i" for name, attr in _INT_FIELDS
                  if getattr(r, attr) is not None]
        fields += [f"{name}={float(getattr(r, attr))!r}" for name, attr in _FLOAT_FIELDS
                   if getattr(r, attr) is not None]
        lines.append(f"{measurement(tier, r.key.quantity)},sensor={escape_tag(r.key.sensor)},"
                     f"site={escape_tag(r.key.site)} {','.join(fields)} "
                     f"{stored_time(tier, r.start_ns)}")
    return "\n".join(lines)


class InfluxRollups(TierPlannedAggregate):
    """Mixed into `InfluxStore`, which provides queries, writes and the HTTP pool."""

    url: str
    bucket: str
    _org: str
    _token: str
    _http: urllib3.PoolManager
    _query: Callable[[str, dict[str, Any]], dict[str, Any]]
    _series: Callable[[dict[str, Any]], Iterable[dict[str, Any]]]
    _write_with_retries: Callable[[str], None]
    _coverage_cache: tuple[float, dict[Tier, int]] | None = None

    def points(self, keys: Sequence[SeriesKey], start_ns: int, end_ns: int
               ) -> dict[SeriesKey, list[Point]]:
        if not keys:
            return {}
        quantity = keys[0].quantity
        where, params = where_clause(keys=keys, start_ns=start_ns, end_ns=end_ns)
        q = (f'SELECT "value", "implausible" FROM {quote_ident(quantity.value)} {where} '
             'GROUP BY "site", "sensor"')
        out: dict[SeriesKey, list[Point]] = {}
        for s in self._series(self._query(q, params)):
            key = SeriesKey(s["tags"]["site"], s["tags"]["sensor"], quantity)
            out[key] = [(int(t), float(v), bool(bad)) for t, v, bad in s["values"]]
        return out

    def write_rollups(self, tier: Tier, rows: Sequence[RollupRow]) -> None:
        for start in range(0, len(rows), 5_000):
            self._write_with_retries(encode_rows(tier, rows[start:start + 5_000]))

    def rollups(self, tier: Tier, keys: Sequence[SeriesKey], start_ns: int, end_ns: int
                ) -> dict[SeriesKey, list[RollupRow]]:
        if not keys:
            return {}
        quantity = keys[0].quantity
        where, params = where_clause(keys=keys, start_ns=stored_time(tier, start_ns - 1) + 1,
                                     end_ns=stored_time(tier, end_ns - 1) + 1)
        names = [n for n, _ in _INT_FIELDS] + [n for n, _ in _FLOAT_FIELDS]
        cols = ", ".join(quote_ident(n) for n in names)
        q = (f"SELECT {cols} FROM {quote_ident(measurement(tier, quantity))} {where} "
             'GROUP BY "site", "sensor"')
        attrs = [a for _, a in _INT_FIELDS] + [a for _, a in _FLOAT_FIELDS]
        out: dict[SeriesKey, list[RollupRow]] = {}
        for s in self._series(self._query(q, params)):
            key = SeriesKey(s["tags"]["site"], s["tags"]["sensor"], quantity)
            rows = []
            for row in s["values"]:
                values: dict[str, Any] = dict(zip(attrs, row[1:], strict=True))
                for _, attr in _INT_FIELDS[:2]:
                    values[attr] = int(values[attr] or 0)
                values["total"] = float(values["total"] or 0.0)
                rows.append(RollupRow(key, window_start(tier, int(row[0])), **values))
            out[key] = rows
        return out

    def coverage(self) -> Mapping[Tier, int]:
        cached = self._coverage_cache
        if cached is not None and time.monotonic() - cached[0] < _COVERAGE_TTL_S:
            return cached[1]
        q = f'SELECT last("from_ns") FROM {quote_ident(_COVERAGE)} GROUP BY "tier"'
        found: dict[Tier, int] = {}
        for s in self._series(self._query(q, {})):
            tier = s.get("tags", {}).get("tier")
            if tier in Tier._value2member_map_:
                found[Tier(tier)] = int(s["values"][0][1])
        self._coverage_cache = (time.monotonic(), found)
        return found

    def set_coverage(self, tier: Tier, from_ns: int) -> None:
        self._write_with_retries(f"{_COVERAGE},tier={tier.value} from_ns={from_ns}i 0")
        self._coverage_cache = None

    def delete_before(self, tier: Tier | None, before_ns: int, *, dry_run: bool = False
                      ) -> int:
        found = 0
        field = '"value"' if tier is None else '"n_all"'
        for quantity in Quantity:
            name = quantity.value if tier is None else measurement(tier, quantity)
            hi = before_ns if tier is None else stored_time(tier, before_ns - 1) + 1
            params = {"lo": MIN_NS, "hi": hi}
            bounded = "WHERE time >= $lo AND time < $hi"
            q = f"SELECT count({field}) FROM {quote_ident(name)} {bounded}"
            n = sum(int(s["values"][0][1]) for s in self._series(self._query(q, params)))
            found += n
            if n and not dry_run:
                self._delete(name, bounded, params)
        return found

    def _delete(self, name: str, bounded: str, params: dict[str, Any]) -> None:
        try:
            self._query(f"DELETE FROM {quote_ident(name)} {bounded}", params)
        except StoreRejected:
            self._delete_v2(name, params["lo"], params["hi"])

    def _delete_v2(self, name: str, lo: int, hi: int) -> None:
        """InfluxDB 2.x: its InfluxQL is read-only; the delete API takes the same range."""
        def rfc3339(ns: int) -> str:
            return datetime.fromtimestamp(max(ns, 0) // 10**9, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ")

        body = json.dumps({"start": rfc3339(lo), "stop": rfc3339(hi),
                           "predicate": f'_measurement="{name}"'})
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Token {self._token}"
        try:
            resp = self._http.request(
                "POST", f"{self.url}/api/v2/delete?bucket={self.bucket}&org={self._org}",
                body=body.encode(), headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise StoreUnavailable(f"InfluxDB at {self.url} is unreachable "
                                   f"({type(exc).__name__})") from None
        if resp.status >= 300:
            raise StoreRejected(
                f"InfluxDB at {self.url} deleted nothing from {name} (HTTP {resp.status}); "
                "this server deletes no points (InfluxDB 3): set the database's retention "
                "period instead and turn raw retention off (STADTPULS_RETENTION_RAW=forever)")

    def _tier_partials(
        self, tier: Tier, keys: Sequence[SeriesKey], a_ns: int, b_ns: int, window_ns: int,
        offset_ns: int, plausible_only: bool, need_last: bool, energy: bool,
    ) -> dict[SeriesKey, dict[int, Partial]]:
        """Per query window; [a, b) and the windows are whole tier windows, or the range is
        one query window (then no GROUP BY time: everything is that window)."""
        out: dict[SeriesKey, dict[int, Partial]] = {}
        by_quantity: dict[Quantity, list[SeriesKey]] = {}
        for key in dict.fromkeys(keys):
            by_quantity.setdefault(key.quantity, []).append(key)
        width = tier.width_ns
        whole = window_ns % width == 0 and offset_ns % width == 0
        if whole:
            step = window_ns // width * NS_PER_S
            group = (f'GROUP BY time({step}ns, {offset_ns // width * NS_PER_S % step}ns), '
                     '"site", "sensor" fill(none)')
        else:
            group = 'GROUP BY "site", "sensor"'
            single = window_of(a_ns, window_ns, offset_ns)

        def window(stored: int) -> int:
            return window_start(tier, stored) if whole else single

        count = '"n"' if plausible_only else '"n_all"'
        cols = f'sum({count}), sum("total"), min("vmin"), max("vmax")'
        if need_last:
            cols += ', last("vlast")'
        for quantity, group_keys in by_quantity.items():
            where, params = where_clause(keys=group_keys, start_ns=stored_time(tier, a_ns),
                                         end_ns=stored_time(tier, b_ns))
            source = quote_ident(measurement(tier, quantity))
            if energy:
                q = f'SELECT sum("energy") FROM {source} {where} {group}'
                for s in self._series(self._query(q, params)):
                    key = SeriesKey(s["tags"]["site"], s["tags"]["sensor"], quantity)
                    out[key] = {window(int(t)): Partial(0, 0.0, None, None, None, float(wh))
                                for t, wh in s["values"] if wh is not None}
                continue
            q = f"SELECT {cols} FROM {source} {where} AND {count} > 0 {group}"
            for s in self._series(self._query(q, params)):
                key = SeriesKey(s["tags"]["site"], s["tags"]["sensor"], quantity)
                out[key] = {
                    window(int(row[0])): Partial(int(row[1]), float(row[2]), row[3], row[4],
                                                 row[5] if need_last else None)
                    for row in s["values"] if row[1]
                }
        return out


def where_clause(
    *,
    keys: Sequence[SeriesKey] = (),
    site: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    plausible_only: bool = False,
) -> tuple[str, dict[str, Any]]:
    """A WHERE clause that refers to values only through bound `$parameters`."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if keys:
        alternatives = []
        for i, key in enumerate(keys):
            params[f"site{i}"] = key.site
            params[f"sensor{i}"] = key.sensor
            alternatives.append(f'("site" = $site{i} AND "sensor" = $sensor{i})')
        clauses.append("(" + " OR ".join(alternatives) + ")")
    if site is not None:
        params["site"] = site
        clauses.append('"site" = $site')
    if start_ns is not None:
        params["start"] = start_ns
        clauses.append("time >= $start")
    if end_ns is not None:
        params["end"] = end_ns
        clauses.append("time < $end")
    if plausible_only:
        clauses.append('"implausible" = false')
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params
