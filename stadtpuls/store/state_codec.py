"""Snapshot rows (`stadtpuls.state.rows.StateRow`) as InfluxDB points and SQLite rows.

InfluxDB: measurement `stadtpuls_sensor_state`, tags client/site/sensor/quantity, one point
per series and client per UTC day (the point's time is the day's start, so a new snapshot
overwrites the last one instead of adding 10,000 points a minute; the day keeps the point
inside any retention period). The snapshot's own time is the field `at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.state.rows import StateRow, WindowFigures, row_quantity
from stadtpuls.store.line_protocol import escape_tag
from stadtpuls.timebase import NS_PER_S

MEASUREMENT = "stadtpuls_sensor_state"
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


def lines(rows: Iterable[StateRow]) -> str:
    out = []
    for r in rows:
        values = flat(r)
        tags = ",".join(f"{k}={escape_tag(str(v))}" for k, v in zip(COLUMNS[:4], values[:4],
                                                                    strict=True))
        fields = []
        for k, v in zip(COLUMNS[4:], values[4:], strict=True):
            if v is None:
                continue
            if isinstance(v, bool):
                fields.append(f"{k}={'true' if v else 'false'}")
            elif isinstance(v, int):
                fields.append(f"{k}={v}i")
            else:
                fields.append(f"{k}={float(v)!r}")
        out.append(f"{MEASUREMENT},{tags} {','.join(fields)} {r.at_ns // DAY_NS * DAY_NS}")
    return "\n".join(out)


def from_influx_series(series: dict[str, Any]) -> Iterable[StateRow]:
    """Rows of an InfluxQL `SELECT * … GROUP BY *` answer (tags come as the group's tags)."""
    tags = series.get("tags") or {}
    cols = series["columns"]
    for values in series["values"]:
        rec = dict(zip(cols, values, strict=True))
        rec.update(tags)
        row = from_flat([rec.get(c) for c in COLUMNS])
        if row is not None:
            yield row
