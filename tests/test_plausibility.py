"""One plausibility rule (`Sensor.is_plausible`) for the simulators and the ingest.

What the simulators send is run through the ingest's own decoding and validation: without
the implausible fault nothing may come out marked implausible (spikes, stuck values and
meter resets are odd but plausible), and with it exactly the injected values are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.decoding import MessageDecoder
from simulators.faults import FaultKind, FaultPlan
from simulators.generate import generate
from simulators.messages import build_messages
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.reading import Reading

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"
START = datetime(2025, 7, 3, tzinfo=UTC)  # summer: PV near its rating, warm afternoons
END = START + timedelta(days=1)
ODD_BUT_PLAUSIBLE = "spikes:*~0.05,stuck:*@+3h/2h,silent:*@+8h/1h,meter_reset:*@+12h"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE)


def _sent_and_stored(catalogue: Catalogue, site: str, faults: str
                     ) -> tuple[FaultPlan, list[Reading], set[tuple[str, int]]]:
    """The site's readings as the ingest stores them, and the implausible faults injected."""
    plan = FaultPlan.parse(faults).for_run(START, END)
    sim = generate(catalogue, site, START, END, timedelta(minutes=1), 3, plan)
    decoder = MessageDecoder(catalogue)
    stored = [reading for message in build_messages(sim, None, plan).messages
              for reading in decoder.decode(message.topic, message.payload, message.time_ns)]
    injected = {(f.sensor, f.time_ns) for f in sim.faults if f.kind is FaultKind.IMPLAUSIBLE}
    return plan, stored, injected


@pytest.mark.parametrize("site", ["stuehlinger", "freiburg"])
def test_simulated_values_without_the_implausible_fault_are_plausible_to_the_ingest(
        catalogue: Catalogue, site: str) -> None:
    plan, stored, injected = _sent_and_stored(catalogue, site, ODD_BUT_PLAUSIBLE)
    assert {s.kind for s in plan.value_specs} == {FaultKind.SPIKES, FaultKind.STUCK,
                                                 FaultKind.SILENT, FaultKind.METER_RESET}
    assert len(stored) > 2_000 and not injected
    marked = [(r.sensor, r.value) for r in stored if r.implausible]
    assert marked == []


@pytest.mark.parametrize("site", ["stuehlinger", "freiburg"])
def test_the_implausible_fault_is_exactly_what_the_ingest_marks_implausible(
        catalogue: Catalogue, site: str) -> None:
    _, stored, injected = _sent_and_stored(catalogue, site, "implausible:*~0.01")
    assert len(injected) >= 10
    assert {(r.sensor, r.time_ns) for r in stored if r.implausible} == injected
