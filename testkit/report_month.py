"""A month of simulated data for the report tests and bench: March 2025 at the Stühlinger
city hall.

March has the change to summer time (30 March), so its 743 hours test the local-midnight
windows. Faults: the roof-centre meter is replaced mid-month (reset to zero) and the
irradiance sensor is silent for two hours, which the completeness table and the model's
weather share must show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from simulators.generate import SiteSimulation
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.store.protocol import StoreWriter
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import to_ns
from testkit.devdata import simulate_into

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
SITE = "stuehlinger"
MONTH_START = datetime(2025, 3, 1, tzinfo=BERLIN)
MONTH_END = datetime(2025, 4, 1, tzinfo=BERLIN)
OUTAGE = timedelta(hours=2)
FAULTS = ("meter_reset:pv_roof_centre_energy@2025-03-12T09:00:00+01:00,"
          f"silent:weather_irradiance@2025-03-20T10:00:00+01:00/{int(OUTAGE.seconds / 3600)}h")


def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config" / "stuehlinger.yaml")


def simulate_march(path: Path, cat: Catalogue) -> list[SiteSimulation]:
    """Write 26 Feb – 1 Apr 2025 (a few days before, for the meters' baseline) to a SQLite
    store at `path`."""
    store = SQLiteStore(path)
    try:
        return simulate_march_into(store, cat)
    finally:
        store.close()


def simulate_march_into(store: StoreWriter, cat: Catalogue) -> list[SiteSimulation]:
    return simulate_into(store, cat, MONTH_START - timedelta(days=3),
                         MONTH_END + timedelta(hours=1), sites=[SITE], faults=FAULTS)[SITE]


def truth_kwh(sims: list[SiteSimulation], which: str, start: datetime = MONTH_START,
              end: datetime = MONTH_END) -> float:
    """The simulator's own energy in [start, end): an array id, "pv", "load" or "export"."""
    total = 0.0
    for sim in sims:
        mask = (sim.times_ns >= to_ns(start)) & (sim.times_ns < to_ns(end))
        assert sim.load_w is not None
        power = {"pv": sim.pv_total_w, "load": sim.load_w,
                 "export": np.clip(sim.pv_total_w - sim.load_w, 0, None)}.get(which)
        total += sim.energy_kwh((sim.pv_ac_w[which] if power is None else power)[mask])
    return total
