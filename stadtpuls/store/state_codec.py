"""Snapshot rows (`stadtpuls.state.rows.StateRow`) as InfluxDB points and SQLite rows.

InfluxDB: measurement `stadtpuls_state`, tags client/part, field `data` holding up to
`PART_ROWS` rows (JSON, zlib, base64) and field `at`, the snapshot's time. A point sits at
the start of its UTC day, so a new snapshot overwrites the last one instead of adding points
(the day keeps it inside any retention period). Rows are packed rather than one point per
series because InfluxDB pays per series for every query: with 10,000 sensors, reading one
point per series took a second of influxd's time on every page refresh; twenty packed points
take milliseconds. A part left over from a larger snapshot carries an older `at` and loses
to the newer row of each series in `merge`.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.state.rows import StateRow, WindowFigures, row_quantity
from stadtpuls.store.line_protocol import escape_tag
from stadtpuls.timebase import NS_PER_S

MEASUREMENT = "stadtpuls_state"
PART_ROWS = 500
PART_MAX_BYTES = 48_000
"""InfluxDB 1.x keeps string fields up to 64 KB; a part that would be longer is split."""
DAY_NS = 86_400 * NS_PER_S
COLUMNS = ("client", "site", "sensor", "quantity", "at", "end", "t", "v", "imp", "unreg",
           "cw", "cn", "sw", "sn", "smin", "smax")
"""Field order of `flat` and of the SQLite table."""


def flat(r: StateRow) -> tuple[Any, ...]:
    n = r.newest
    c = r.completeness
    s = r.stuck
    return (r.client, r.key.site, r.key.sensor, r.key.quantity.value, r.at_ns, r.end_ns,
            None if n is None else n.time_ns, None if n is None else n.value,
            None if n is None else n.implausible, None if n is None else n.unregistered,
            None if c is None else c.window_s, None if c is None else c.count,
            None if s is None else s.window_s, None if s is None else s.count,
            None if s is None else s.min, None if s is None else s.max)


def from_flat(values: Sequence[Any]) -> StateRow | None:
    (client, site, sensor, q, at, end, t, v, imp, unreg, cw, cn, sw, sn, smin, smax) = values
    quantity = row_quantity(str(q))
    if quantity is None or at is None or end is None:
        return None
    newest = (Reading(site, sensor, quantity, int(t), float(v), bool(imp), bool(unreg))
              if t is not None and v is not None else None)
    full = WindowFigures(int(cw), int(cn)) if cw is not None and cn is not None else None
    stuck = (WindowFigures(int(sw), int(sn), float(smin or 0.0), float(smax or 0.0))
             if sw is not None and sn is not None else None)
    return StateRow(client, SeriesKey(site, sensor, quantity), int(at), int(end), newest,
                    full, stuck)


def lines(rows: Sequence[StateRow]) -> str:
    """Line protocol for one client's snapshot: parts of at most `PART_ROWS` rows."""
    out: list[tuple[StateRow, str]] = []
    for start in range(0, len(rows), PART_ROWS):
        out += _parts(rows[start:start + PART_ROWS])
    return "\n".join(f"{MEASUREMENT},client={escape_tag(r.client)},part={n:05d} "
                     f'at={r.at_ns}i,data="{data}" {r.at_ns // DAY_NS * DAY_NS}'
                     for n, (r, data) in enumerate(out))


def _parts(rows: Sequence[StateRow]) -> list[tuple[StateRow, str]]:
    packed = json.dumps([flat(r)[1:] for r in rows], separators=(",", ":"),
                        allow_nan=False).encode()
    data = base64.b64encode(zlib.compress(packed, 6)).decode("ascii")
    if len(data) > PART_MAX_BYTES and len(rows) > 1:
        half = len(rows) // 2
        return _parts(rows[:half]) + _parts(rows[half:])
    # One row alone over the limit cannot happen: ids are at most 256 characters.
    return [(max(rows, key=lambda r: r.at_ns), data)]


def from_part(client: str, data: str) -> Iterable[StateRow]:
    """The rows of one packed part (a damaged part yields nothing: readers fall back)."""
    try:
        values = json.loads(zlib.decompress(base64.b64decode(data)))
    except (ValueError, zlib.error):
        return
    for flat_values in values:
        row = from_flat([client, *flat_values]) if len(flat_values) == len(COLUMNS) - 1 \
            else None
        if row is not None:
            yield row
