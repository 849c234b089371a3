"""The dashboard as `stadtpuls dashboard` serves it (gunicorn, forked workers), in Chromium.

The other browser tests serve the app from a thread of the test process; this one runs the
command a city runs, so what only happens in a forked worker shows up here: a thread the
app had started before the fork left its lock held in every worker, and the overview's
live values never came (the demo's first page showed empty cards).

Run: .venv/bin/python -m pytest tests/test_dashboard_served.py --webdriver Chrome --headless
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any as DashComposite  # dash.testing is not annotated

import pytest
import requests
from a11y_support import showcase_store
from waiting import wait

from testkit.process import free_port, terminate

ROOT = Path(__file__).resolve().parents[1]


def _up(proc: subprocess.Popen[bytes], url: str) -> bool:
    assert proc.poll() is None, "stadtpuls dashboard exited"
    try:
        return requests.get(url + "/", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


@dataclass
class Served:
    url: str
    log: Path
    """The command's stderr (gunicorn's own messages and the app's log)."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    log = tmp_path / "dashboard.log"
    with contextmanager(showcase_store)(tmp_path), log.open("wb") as err:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "stadtpuls.cli", "dashboard", "--store",
             f"sqlite:{tmp_path / 'a11y.db'}", "--catalogue",
             str(ROOT / "config" / "stuehlinger.yaml"), "--port", str(port),
             "--data-dir", str(tmp_path), "--refresh", "5"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
            start_new_session=True)  # its own group: the worker goes with it, even hung
        url = f"http://127.0.0.1:{port}"
        try:
            wait(lambda: _up(proc, url), 60, "stadtpuls dashboard to serve /")
            yield Served(url, log)
        finally:
            terminate(proc)
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def _content(dash_duo: DashComposite) -> str:
    return str(dash_duo.driver.find_element("id", "_pages_content").text)


def test_the_dashboard_command_serves_live_overview_and_sensors(
        dash_duo: DashComposite, served: Served) -> None:
    dash_duo.driver.get(served.url + "/?lang=en")
    wait(lambda: all(n in _content(dash_duo) for n in ("PV power now", "Bike trips today",
                                                       "OK", "silent")),
         60, "the overview's live values")
    dash_duo.driver.get(served.url + "/sensors?lang=en")
    wait(lambda: "sensors" in dash_duo.driver.find_element("id", "sensors-count").text
         and "PV power roof south A" in _content(dash_duo), 60, "the sensors table's rows")
    assert dash_duo.get_logs() == []
    # A worker that hangs is killed and replaced after gunicorn's timeout, and the page then
    # comes: the log tells whether one hung.
    log = served.log.read_text(errors="replace")
    assert "WORKER TIMEOUT" not in log and "Traceback" not in log, log[-3000:]


def test_building_the_app_starts_no_thread(tmp_path: Path) -> None:
    # gunicorn builds the app, then forks its worker: a thread running at the fork leaves the
    # locks it holds held for ever in the worker (the warm-up's did: the overview hung).
    from dashboard.app import create_app
    from stadtpuls.catalogue import load_catalogue
    from stadtpuls.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "s.db")
    before = {t.ident for t in threading.enumerate()}
    app = create_app(store, load_catalogue(ROOT / "config" / "stuehlinger.yaml"))
    started = [t.name for t in threading.enumerate() if t.ident not in before]
    assert started == []
    # The warm-up starts with the first request instead, once per process.
    app.server.test_client().get("/")
    wait(lambda: not any(t.name == "dashboard-warm-up" for t in threading.enumerate()), 60,
         "the warm-up to finish")
    store.close()
