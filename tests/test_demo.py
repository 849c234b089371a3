"""`stadtpuls demo` end to end: what a visitor sees a minute after starting it.

The demo writes its history straight into the store (not through the ingest), so the ingest's
sensor state knows nothing of it; a minute after start, when the first snapshot appeared,
every sensor read "incomplete" (1 %). The back-fill publishes its own state like a second
ingest replica now; this runs the real command with one fault (a room's CO₂ sensor stuck) and
a day and a bit of history, waits for both snapshots, and derives every sensor's status as the
dashboard does. The demo's alert evaluator, started once the history is stored, then mails
the stuck sensor to the local outbox and never reports a sensor as incomplete (evaluating
during the back-fill, it once filled the alerts page with 40 of those).
"""

from __future__ import annotations

import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from waiting import wait

from alerts.state import AlertState
from dashboard.data.source import DataSource
from dashboard.data.status import Status, sensor_states
from stadtpuls.catalogue import load_catalogue
from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.tiers import Tier
from stadtpuls.store import Aggregate
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity
from testkit.process import free_port, terminate

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "config" / "stuehlinger.yaml"
STUCK = "room_sitzungssaal_co2"
HOUR = 3_600 * 10**9


def test_a_started_demo_shows_complete_healthy_sensors(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    with (tmp_path / "demo.log").open("wb") as log:
        demo = subprocess.Popen(
            [sys.executable, "-m", "stadtpuls.cli", "demo", "--port", str(free_port()),
             "--data-dir", str(data), "--backfill", "26h", "--faults",
             f"stuck:{STUCK}@-20h"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            store = SQLiteStore(data / "stadtpuls.db")

            def clients() -> set[str]:
                assert demo.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
                try:
                    return {row.client for row in store.read_states(0)}
                except Exception:  # the demo may still be creating the database
                    return set()

            # The ingest's first snapshot comes a minute after its start.
            wait(lambda: {"stadtpuls-demo-ingest", "stadtpuls-demo-backfill"} <= clients(),
                 180, "both sensor state snapshots", step=2.0)
            source = DataSource.create(store, load_catalogue(CATALOGUE))
            states = [s for s in sensor_states(source) if s.sensor is not None]
            assert len(states) == 41
            unwell = {s.sensor_id: (s.status.value, s.completeness) for s in states
                      if s.status is not Status.OK}
            assert unwell == {STUCK: ("stuck", unwell[STUCK][1])}
            assert min(s.completeness or 0 for s in states) > 0.9

            # The history is rolled up: the PV energy of the last 20 closed hours read as the
            # energy page reads it (tier rows where they cover) equals the meter's readings.
            # (The ingest's catch-up marked the tiers complete for the last hours while the
            # history arrived past it: the energy page showed a third of the day.)
            wait(lambda: "history rolled up" in (tmp_path / "demo.log").read_text(), 120,
                 "the history's roll-ups", step=1.0)
            key = SeriesKey("stuehlinger", "pv_roof_south_a_energy", Quantity.ENERGY)
            end = time.time_ns() // HOUR * HOUR - HOUR
            start = end - 20 * HOUR
            tiered = store.aggregate([key], start, end, HOUR, (Aggregate.ENERGY,))[key]
            meter = store.points([key], start - HOUR, end + 1)[key]
            raw = (max(p for p in meter if p[0] <= end)[1]
                   - max(p for p in meter if p[0] <= start)[1])
            assert raw > 0
            assert sum(tiered.values[Aggregate.ENERGY]) == pytest.approx(raw, rel=1e-9)
            assert store.rollups(Tier.H1, [key], start, end)[key], "read from the hourly tier"

            alerts = AlertState(data / "alerts.db")
            mails = wait(lambda: sorted((data / "outbox").glob("*.eml")), 120,
                         "the stuck sensor's alert mail in the demo's outbox", step=2.0)
            mail = message_from_bytes(mails[0].read_bytes(), policy=policy.default)
            assert str(mail["Subject"]) == ("[Stadtpuls] ALARM: CO₂ Sitzungssaal (Rathaus im "
                                            "Stühlinger) – Wert hängt (ändert sich nicht)")
            assert mail["To"] == "haustechnik@example.org"

            ever = {(row.rule, row.sensor, row.state) for row in alerts.alerts()}
            assert ever == {("stuck", STUCK, "firing")}
            alerts.close()
            store.close()
        finally:
            terminate(demo)
