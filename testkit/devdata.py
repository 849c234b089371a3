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
from stadtpuls.reading import Reading
from stadtpuls.refusal import write_isolating
from stadtpuls.store.protocol import StoreWriter

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
