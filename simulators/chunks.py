"""Simulate a run site by site in chunks, readings marked implausible as the ingest marks them.

For whatever writes simulated readings straight into a store, skipping MQTT (dev data for
tests and benches, the alert preview): chunks keep memory flat over long runs, and the
carry makes the chunks one continuous run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from simulators.faults import FaultPlan
from simulators.generate import Carry, SiteSimulation, generate
from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading


def mark_plausibility(catalogue: Catalogue, readings: Iterable[Reading]) -> Iterator[Reading]:
    """Set `implausible` on readings their sensor finds implausible, as the ingest does."""
    rules = {(site, s.id): s.is_plausible for site, s in catalogue.sensors()}
    for r in readings:
        plausible = rules.get((r.site, r.sensor))
        yield r if plausible is None or plausible(r.value) else replace(r, implausible=True)


def simulate_chunks(
    catalogue: Catalogue,
    start: datetime,
    end: datetime,
    *,
    sites: Iterable[str] | None = None,
    step: timedelta = timedelta(minutes=1),
    seed: int = 1,
    faults: str | None = None,
    chunk: timedelta = timedelta(days=7),
    run_start: datetime | None = None,
) -> Iterator[tuple[str, SiteSimulation, Iterator[Reading]]]:
    """(site, simulation, its marked readings) for each chunk of each site over [start, end).

    Fault times such as `+2d` count from `run_start` (default `start`).
    """
    plan = FaultPlan.parse(faults).for_run(run_start or start, end)
    for site in sites or list(catalogue.sites):
        carry = Carry()
        lo = start
        while lo < end:
            hi = min(lo + chunk, end)
            sim = generate(catalogue, site, lo, hi, step, seed, plan, carry)
            carry = sim.carry
            yield site, sim, mark_plausibility(catalogue, sim.readings())
            lo = hi
