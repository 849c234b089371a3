"""Fill a store straight from the simulators: for tests, screenshots and benches.

This skips MQTT and the ingest on purpose (fast, deterministic); readings outside a sensor's
plausible range are marked by the rule the ingest uses (`simulators.chunks`), so the dashboard
sees the same data. The product never imports this module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stadtpuls.catalogue import Catalogue
from stadtpuls.pipeline import PIPELINE_SITE
from stadtpuls.reading import Reading
from stadtpuls.refusal import write_isolating
from stadtpuls.store.protocol import StoreWriter
from stadtpuls.timebase import to_ns
from stadtpuls.units import Quantity

if TYPE_CHECKING:
    from simulators.generate import SiteSimulation

log = logging.getLogger("stadtpuls.devdata")

_BATCH = 20_000


def write_all(store: StoreWriter, readings: Iterable[Reading], batch: int = _BATCH) -> int:
    """Write in batches; return how many readings were written. Readings the store refuses
    (which would be a simulator bug) are left out and logged, like the ingest does."""
    buffer: list[Reading] = []
    written = 0
    for r in readings:
        buffer.append(r)
        if len(buffer) >= batch:
            written += _write(store, buffer)
            buffer = []
    if buffer:
        written += _write(store, buffer)
    return written


def _write(store: StoreWriter, readings: list[Reading]) -> int:
    kept, refused = write_isolating(store, readings, range(len(readings)))
    if refused:
        first, reason = next(iter(refused.items()))
        r = readings[first]
        log.warning("dev data: the store refused %d simulated readings, e.g. %s/%s %s at %d: "
                    "%s", len(refused), r.site, r.sensor, r.quantity, r.time_ns, reason)
    return len(kept)


def simulate_into(
    store: StoreWriter,
    catalogue: Catalogue,
    start: datetime,
    end: datetime,
    *,
    sites: Iterable[str] | None = None,
    step: timedelta = timedelta(minutes=1),
    seed: int = 1,
    faults: str | None = None,
    chunk: timedelta = timedelta(days=7),
) -> dict[str, list[SiteSimulation]]:
    """Simulate each site over [start, end) in chunks and write every reading to `store`."""
    from simulators.chunks import simulate_chunks

    out: dict[str, list[SiteSimulation]] = {}
    for site, sim, readings in simulate_chunks(catalogue, start, end, sites=sites, step=step,
                                               seed=seed, faults=faults, chunk=chunk):
        write_all(store, readings)
        out.setdefault(site, []).append(sim)
    return out


def pipeline_readings(start: datetime, end: datetime, client: str = "ingest-1") -> list[Reading]:
    """Counters as the ingest writes them every 10 s (about 1 message/s, 2 readings each)."""
    out: list[Reading] = []
    t = to_ns(start)
    step = 10 * 10**9
    accepted = written = rejected = 0.0
    while t < to_ns(end):
        accepted += 10
        written += 19
        rejected += 0.05
        for metric, value in (("messages_accepted", accepted), ("readings_written", written),
                              ("messages_rejected", int(rejected)),
                              ("readings_unregistered", int(rejected * 4)),
                              ("readings_implausible", 3), ("spool_depth", 0),
                              ("broker_connected", 1), ("store_ok", 1)):
            out.append(Reading(PIPELINE_SITE, f"{client}/{metric}", Quantity.COUNT, t, value))
        out.append(Reading(PIPELINE_SITE, f"{client}/newest_reading_age", Quantity.DURATION, t,
                           1.4))
        t += step
    return out


def showcase(store: StoreWriter, catalogue: Catalogue, days: float, now: datetime) -> None:
    """`days` of simulated data up to `now` in which every status shows up: a silent and an
    implausible sensor, one unregistered sensor, and pipeline figures like the ingest's."""
    silent_from = (now - timedelta(minutes=40)).isoformat()
    implausible_at = (now - timedelta(minutes=6)).isoformat()
    simulate_into(store, catalogue, now - timedelta(days=days), now,
                  faults=f"silent:weather_wind_speed@{silent_from},"
                         f"implausible:room_sitzungssaal_co2@{implausible_at}")
    store.write(pipeline_readings(now - timedelta(hours=2), now))
    store.write([Reading("freiburg", "lora-test-7f3a", Quantity.TEMPERATURE,
                         to_ns(now - timedelta(minutes=4)), 18.4, unregistered=True)])
