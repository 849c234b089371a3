"""Pipeline health from what the ingest writes about itself.

Each ingest client writes readings with site `_pipeline` and sensor `<client-id>/<metric>`
every few seconds: cumulative counters (messages_accepted, messages_rejected,
readings_written, readings_unregistered, readings_implausible), gauges (spool_depth,
broker_connected, store_ok, as counts) and newest_reading_age (a duration in s). Rates are
per-minute differences of the counters; a counter that drops (an ingest restart) started
again from zero, the same rule as for energy meters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.data.cache import bucket_end
from dashboard.data.source import DataSource
from dashboard.data.status import latest_readings
from stadtpuls.energy_math import meter_increments
from stadtpuls.pipeline import (
    COUNTERS,
    PIPELINE_SITE,
    PipelineFigure,
    pipeline_sensor,
    split_pipeline_sensor,
)
from stadtpuls.reading import SeriesKey
from stadtpuls.store.protocol import Aggregate
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity

SPAN_S = 3_600
RATE_WINDOW_S = 60
STALE_AFTER_S = 60.0
"""An ingest that has not reported for this long is shown as not reporting."""


@dataclass(frozen=True)
class ClientHealth:
    label: str
    """A neutral number ("1", "2", … by client id): the client id itself is part of the
    broker's authentication and stays off a page that visitors can read."""
    last_report_ns: int | None
    reporting: bool
    rates: dict[str, float | None]
    """Per-second rate of each counter over the last full minute."""
    totals: dict[str, float]
    spool_depth: float | None
    broker_connected: bool | None
    store_ok: bool | None
    newest_reading_age_s: float | None


@dataclass(frozen=True)
class PipelineView:
    clients: list[ClientHealth]
    rates: pd.DataFrame
    """Columns time (UTC), client (the neutral label), metric, per_s: per-minute rates over
    the last hour."""


def pipeline(source: DataSource) -> PipelineView:
    now = source.now_ns()
    latest = {k: r for k, r in latest_readings(source).items() if k.site == PIPELINE_SITE}
    clients = sorted({parts[0] for k in latest if (parts := split_pipeline_sensor(k.sensor))})
    labels = {c: str(i) for i, c in enumerate(clients, 1)}
    counter_keys = [SeriesKey(PIPELINE_SITE, pipeline_sensor(c, m), Quantity.COUNT)
                    for c in clients for m in COUNTERS]
    end = bucket_end(now, 10.0)
    window = RATE_WINDOW_S * NS_PER_S
    result = source.reader.aggregate(
        [k for k in counter_keys if k in latest], end - SPAN_S * NS_PER_S - window, end, window,
        (Aggregate.LAST,), ttl_s=10.0) if clients else {}
    rows: list[dict[str, object]] = []
    rates_now: dict[str, dict[str, float | None]] = {c: {} for c in clients}
    for key, ws in result.items():
        parts = split_pipeline_sensor(key.sensor)
        if parts is None:
            continue
        client, metric = parts
        values = ws.values[Aggregate.LAST]
        increments = meter_increments(values)
        per_minute: list[tuple[int, float]] = []
        for i, inc in enumerate(increments):
            t = ws.times[i + 1]
            per_s = inc / ((t - ws.times[i]) / NS_PER_S)
            per_minute.append((t, per_s))
            rows.append({"time": t, "client": labels[client], "metric": metric,
                         "per_s": per_s})
        # The newest window is still filling: the last full minute is the one before it.
        full = [per_s for t, per_s in per_minute if t + window <= now]
        rates_now[client][metric] = full[-1] if full else None
    frame = pd.DataFrame(rows, columns=["time", "client", "metric", "per_s"])
    frame["time"] = pd.to_datetime(frame["time"], unit="ns", utc=True)

    out: list[ClientHealth] = []
    for client in clients:
        def value(figure: PipelineFigure, quantity: Quantity = Quantity.COUNT,
                  client: str = client) -> float | None:
            reading = latest.get(SeriesKey(PIPELINE_SITE, pipeline_sensor(client, figure),
                                           quantity))
            return None if reading is None else reading.value

        mine = [r for k, r in latest.items() if k.sensor.startswith(f"{client}/")]
        last = max((r.time_ns for r in mine), default=None)
        connected, store_ok = value(PipelineFigure.BROKER_CONNECTED), value(PipelineFigure.STORE_OK)
        reporting = last is not None and (now - last) / NS_PER_S <= STALE_AFTER_S
        if store_ok is None and reporting:
            # The ingest writes these figures through the store (spooling them while it is
            # down): fresh figures in the store mean its writes get through.
            store_ok = 1.0
        out.append(ClientHealth(
            label=labels[client],
            last_report_ns=last,
            reporting=reporting,
            rates={m: rates_now[client].get(m) for m in COUNTERS},
            totals={m: v for m in COUNTERS if (v := value(m)) is not None},
            spool_depth=value(PipelineFigure.SPOOL_DEPTH),
            broker_connected=None if connected is None else connected > 0,
            store_ok=None if store_ok is None else store_ok > 0,
            newest_reading_age_s=value(PipelineFigure.NEWEST_READING_AGE, Quantity.DURATION),
        ))
    return PipelineView(out, frame)
