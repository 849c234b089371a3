"""`stadtpuls alerts preview`: what the rules would have fired over past data, to tune them.

The real evaluator walks through the range round by round (every `step`) with its state in
memory, so the preview shows exactly what `alerts run` would have done — wait times,
hysteresis and all — without sending anything. With `--simulate` it first fills a temporary
SQLite store from the simulators (in-process, with a fault plan), a day before the range so
the 24-hour windows are full from the first round.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from alerts.evaluate import Evaluator
from alerts.state import AlertState
from stadtpuls.catalogue import Catalogue
from stadtpuls.refusal import write_isolating
from stadtpuls.store.protocol import StoreReader, StoreWriter
from stadtpuls.sun import prime
from stadtpuls.timebase import NS_PER_S, to_ns

WARM_UP = timedelta(days=1)


@dataclass
class Episode:
    """One alert that fired: from when to when (None: still firing at the end)."""

    rule: str
    site: str
    sensor: str
    severity: str
    fired_ns: int
    resolved_ns: int | None


def preview(reader: StoreReader, catalogue: Catalogue, start: datetime, end: datetime,
            step: timedelta = timedelta(minutes=5), rule: str | None = None) -> list[Episode]:
    """Every alert the catalogue's rules fire over [start, end), in order of firing."""
    for entry in catalogue.sites.values():
        loc = entry.location
        prime(loc.lat, loc.lon, loc.altitude_m, to_ns(start - WARM_UP), to_ns(end))
    with tempfile.TemporaryDirectory(prefix="stadtpuls-preview-") as tmp:
        state = AlertState(Path(tmp) / "alerts.db")
        evaluator = Evaluator(reader, catalogue, state, use_snapshots=False)
        episodes: dict[int, Episode] = {}
        now, stop, step_ns = to_ns(start), to_ns(end), int(step.total_seconds() * NS_PER_S)
        while now < stop:
            for transition, row in evaluator.round(now).transitions:
                if rule is not None and row.rule != rule and not row.rule.startswith(
                        f"{rule}:"):
                    continue
                if transition == "firing":
                    episodes[row.id] = Episode(row.rule, row.site, row.sensor, row.severity,
                                               now, None)
                elif transition == "resolved" and row.id in episodes:
                    episodes[row.id].resolved_ns = now
            now += step_ns
        state.close()
    return sorted(episodes.values(), key=lambda e: (e.fired_ns, e.site, e.sensor, e.rule))


def simulate_into(store: StoreWriter, catalogue: Catalogue, start: datetime, end: datetime,
                  faults: str | None, seed: int) -> list[tuple[str, str, str, int]]:
    """Fill `store` from the simulators over [start − 1 day, end); return the injected value
    faults as (kind, site, sensor, time_ns)."""
    from simulators.chunks import simulate_chunks

    injected: list[tuple[str, str, str, int]] = []
    # fault times given as "+2d" count from the previewed range, not from the warm-up day
    for _, sim, readings in simulate_chunks(catalogue, start - WARM_UP, end, seed=seed,
                                            faults=faults, run_start=start):
        batch = list(readings)
        write_isolating(store, batch, range(len(batch)))
        injected += [(f.kind.value, f.site, f.sensor, f.time_ns) for f in sim.faults]
    return injected
