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
from email import message_from_bytes, policy
from pathlib import Path

from waiting import wait

from alerts.state import AlertState
from dashboard.data.source import DataSource
from dashboard.data.status import Status, sensor_states
from stadtpuls.catalogue import load_catalogue
from stadtpuls.store.sqlite import SQLiteStore
from testkit.process import free_port, terminate

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "config" / "stuehlinger.yaml"
STUCK = "room_sitzungssaal_co2"


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
