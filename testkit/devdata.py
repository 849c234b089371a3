"""Fill a store straight from the simulators: for tests, screenshots and benches.

This skips MQTT and the ingest on purpose (fast, deterministic); it marks readings outside a
sensor's plausible range by the rule the ingest uses, so the dashboard sees the same data. The
product never imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading
from stadtpuls.store.protocol import Store

if TYPE_CHECKING:
    from simulators.generate import SiteSimulation

_BATCH = 20_000


def mark_plausibility(catalogue: Catalogue, readings: Iterable[Reading]) -> Iterator[Reading]:
    """Set `implausible` on readings their sensor finds implausible, as the ingest does."""
    rules = {(site, s.id): s.is_plausible for site, s in catalogue.sensors()}
    for r in readings:
        plausible = rules.get((r.site, r.sensor))
        yield r if plausible is None or plausible(r.value) else replace(r, implausible=True)


def write_all(store: Store, readings: Iterable[Reading], batch: int = _BATCH) -> int:
    buffer: list[Reading] = []
    written = 0
    for r in readings:
        buffer.append(r)
        if len(buffer) >= batch:
            store.write(buffer)
            written += len(buffer)
            buffer = []
    if buffer:
        store.write(buffer)
        written += len(buffer)
    return written


def simulate_into(
    store: Store,
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
    from simulators.faults import FaultPlan
    from simulators.generate import Carry, generate

    plan = FaultPlan.parse(faults).for_run(start, end)
    out: dict[str, list[SiteSimulation]] = {}
    for site in sites or list(catalogue.sites):
        carry = Carry()
        lo = start
        while lo < end:
            hi = min(lo + chunk, end)
            sim = generate(catalogue, site, lo, hi, step, seed, plan, carry)
            carry = sim.carry
            write_all(store, mark_plausibility(catalogue, sim.readings()))
            out.setdefault(site, []).append(sim)
            lo = hi
    return out
