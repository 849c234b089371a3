"""`stadtpuls demo` end to end: what a visitor sees a minute after starting it.

The demo writes its history straight into the store (not through the ingest), so the ingest's
sensor state knows nothing of it; a minute after start, when the first snapshot appeared,
every sensor read "incomplete" (1 %). The back-fill publishes its own state like a second
ingest replica now; this runs the real command with `--faults none` and a day and a bit of
history, waits for both snapshots, and derives every sensor's status as the dashboard does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from waiting import wait

from dashboard.data.source import DataSource
from dashboard.data.status import Status, sensor_states
from stadtpuls.catalogue import load_catalogue
from stadtpuls.store.sqlite import SQLiteStore
from testkit.process import free_port, terminate

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "config" / "stuehlinger.yaml"


def test_a_started_demo_shows_complete_healthy_sensors(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    with (tmp_path / "demo.log").open("wb") as log:
        demo = subprocess.Popen(
            [sys.executable, "-m", "stadtpuls.cli", "demo", "--port", str(free_port()),
             "--data-dir", str(data), "--backfill", "26h", "--faults", "none"],
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
            assert unwell == {}
            assert min(s.completeness or 0 for s in states) > 0.9
            store.close()
        finally:
            terminate(demo)
