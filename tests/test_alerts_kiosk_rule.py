"""The kiosk rule end to end: lobby screens poll the real dashboard (served from a thread),
which copies their last polls into the alert state; `stadtpuls alerts run` (a subprocess)
fires `kiosk_not_reporting` for a screen that stopped polling, never for one that never
reported, and resolves it when the screen is back. Plus the rule's pure condition and its
validation in `config check`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from alerts.conditions import screen_conditions
from alerts.state import AlertRow, AlertState
from dashboard.app import create_app
from dashboard.data.source import DashboardSettings
from stadtpuls.catalogue import CatalogueError, load_catalogue
from stadtpuls.catalogue.alerts import PipelineRules
from stadtpuls.pipeline import PIPELINE_SITE
from stadtpuls.settings import OperatorSettings
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S
from testkit.kiosk import Served, wait_until
from testkit.process import free_port, terminate

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "config" / "stuehlinger.yaml"
QUIET_S = 3


def _catalogue(tmp_path: Path, kiosk_rule: object) -> Path:
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    data["alerts"].setdefault("pipeline", {})["kiosk_not_reporting"] = kiosk_rule
    data["alerts"]["recipients"] = []  # no channel to configure; the state is what we check
    # a second screen that is never switched on
    data["displays"]["foyer2"] = {**data["displays"]["lobby"], "description": "not yet up"}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Screen:
    """A lobby screen polling its API, as kiosk.js does, until paused."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.polling = threading.Event()
        self.polling.set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            if self.polling.is_set():
                requests.get(self.url, params={"v": "test", "scene": "clock"}, timeout=30)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


@pytest.fixture
def evaluated(tmp_path: Path) -> Iterator[tuple[Screen, AlertState, int]]:
    catalogue_file = _catalogue(tmp_path, {"for": f"{QUIET_S}s", "severity": "critical"})
    store = SQLiteStore(tmp_path / "store.db")
    state_file = tmp_path / "alerts.db"
    app = create_app(store, load_catalogue(catalogue_file),
                     DashboardSettings(screen_heartbeat_s=0.2),
                     operators=OperatorSettings(alert_state=str(state_file)))
    server = Served(app.server)
    screen = Screen(f"{server.url}/kiosk/api/lobby")
    state = AlertState(state_file)
    metrics = free_port()
    evaluator = subprocess.Popen(
        [sys.executable, "-m", "stadtpuls.cli", "alerts", "run", "--store",
         f"sqlite:{tmp_path / 'store.db'}", "--catalogue", str(catalogue_file), "--data-dir",
         str(tmp_path), "--interval", "0.3", "--http-port", str(metrics)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        yield screen, state, metrics
    finally:
        terminate(evaluator)
        screen.stop()
        server.stop()
        state.close()
        store.close()


def _screen_alerts(state: AlertState) -> dict[str, AlertRow]:
    return {row.sensor: row for row in state.alerts(limit=1000)
            if row.rule == "kiosk_not_reporting"}


def _rounds_done(port: int) -> bool:
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except requests.ConnectionError:
        return False
    return "stadtpuls_alerts_store_ok 1.0" in text  # set after each round


def test_screen_that_stops_polling_fires_and_resolves(
        evaluated: tuple[Screen, AlertState, int]) -> None:
    screen, state, metrics = evaluated
    wait_until(lambda: "lobby" in state.screen_contacts(), 60,
               "the dashboard to record the lobby screen's polls in the alert state")
    wait_until(lambda: _rounds_done(metrics), 120, "the evaluator's first round")
    assert _screen_alerts(state) == {}  # polling: nothing; foyer2 never reported: nothing

    screen.polling.clear()
    fired = wait_until(lambda: _screen_alerts(state).get("kiosk/lobby"), 120,
                       "the lobby screen's alert")
    assert (fired.site, fired.severity) == (PIPELINE_SITE, "critical")
    wait_until(lambda: _screen_alerts(state)["kiosk/lobby"].state == "firing", 60,
               "the alert to fire")
    assert set(_screen_alerts(state)) == {"kiosk/lobby"}

    screen.polling.set()
    wait_until(lambda: _screen_alerts(state)["kiosk/lobby"].state == "resolved", 120,
               "the alert to resolve once the screen polls again")
    assert set(_screen_alerts(state)) == {"kiosk/lobby"}


def test_screen_condition_judges_only_screens_that_reported() -> None:
    rules = PipelineRules.model_validate({"kiosk_not_reporting": {"for": "10m"}})
    now = 10_000 * NS_PER_S
    contacts = {"a": now - 601 * NS_PER_S, "b": now - 60 * NS_PER_S, "gone": 0}
    found = {c.sensor: c.trigger.value
             for c in screen_conditions(rules, ["a", "b", "never"], contacts, now)}
    assert found == {"kiosk/a": "fire", "kiosk/b": "clear"}
    off = PipelineRules.model_validate({"kiosk_not_reporting": {"enabled": False}})
    assert list(screen_conditions(off, ["a"], contacts, now)) == []


def test_config_check_validates_the_kiosk_rule(tmp_path: Path) -> None:
    path = _catalogue(tmp_path, {"for": "soon"})
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    assert any("kiosk_not_reporting" in str(p) and "duration" in str(p)
               for p in err.value.problems)
    done = subprocess.run([sys.executable, "-m", "stadtpuls.cli", "config", "check",
                           str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1 and "kiosk_not_reporting" in done.stderr
