"""Copies the screens' last polls into the alert state, for the kiosk rule of the evaluator.

The evaluator is another process and the dashboard may not be imported by it; both already
share the alert state file (the `/alerts` page reads and writes it), so each screen's newest
poll goes there (`AlertState.record_screen_contacts`), at most every `every_s` seconds and
from this writer's own thread: a poll never waits for the disk. The thread starts with the
first poll, i.e. in the serving process (gunicorn forks after the app is built).
"""

from __future__ import annotations

import logging
import threading

from dashboard.data.alerts import AlertBoard
from dashboard.kiosk.registry import ScreenRegistry

log = logging.getLogger(__name__)

WRITE_EVERY_S = 30.0


class HeartbeatWriter:
    def __init__(self, registry: ScreenRegistry, board: AlertBoard,
                 every_s: float = WRITE_EVERY_S) -> None:
        self.registry = registry
        self.board = board
        self.every_s = every_s
        self._written: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last_error = ""

    def poke(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="screen-heartbeats",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self.flush()
            if self._stop.wait(self.every_s):
                return

    def flush(self) -> None:
        newest = {c.screen: c.last_ns for c in self.registry.contacts() if c is not None}
        changed = {s: ns for s, ns in newest.items() if self._written.get(s) != ns}
        if not changed:
            return
        try:
            self.board.state().record_screen_contacts(changed)
        except Exception as exc:  # never stop the writer; said once per new problem
            if str(exc) != self._last_error:
                log.warning("cannot record screen contacts in the alert state: %s", exc)
                self._last_error = str(exc)
            return
        self._last_error = ""
        self._written.update(changed)

    def stop(self) -> None:
        self._stop.set()
