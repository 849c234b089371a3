"""What the `/alerts` page shows: open alerts, silences and recent history, read from the
alert state file (`alerts.state.AlertState`, the one home of that state) and filtered.

The state file is opened on first use, so a dashboard without alerts starts as before and
the page says why it has nothing to show.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alerts.state import AlertRow, AlertState, Silence
from stadtpuls.timebase import NS_PER_S

HISTORY_DAYS = 7
MAX_HISTORY = 200
MAX_TEXT_FILTER = 100
STATES = ("firing", "pending", "silenced", "resolved")
SEVERITIES = ("critical", "warning", "info")
_KEY = "STADTPULS_ALERT_BOARD"


class BoardUnavailable(Exception):
    """The alert state file cannot be opened; the message says which and why."""


@dataclass(frozen=True)
class AlertView:
    row: AlertRow
    silenced_until_ns: int | None = None
    """End of the silence that covers this open alert now, if any."""

    @property
    def status(self) -> str:
        if self.row.state != "resolved" and self.silenced_until_ns is not None:
            return "silenced"
        return self.row.state


@dataclass(frozen=True)
class Board:
    open: list[AlertView]
    history: list[AlertView]
    silences: list[Silence]

    @property
    def all(self) -> list[AlertView]:
        return [*self.open, *self.history]


class AlertBoard:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self._state: AlertState | None = None
        self._lock = threading.Lock()

    def state(self) -> AlertState:
        if self.path is None:
            raise BoardUnavailable("no alert state file is set (STADTPULS_DATA_DIR / "
                                   "--data-dir)")
        with self._lock:
            if self._state is None:
                try:
                    self._state = AlertState(self.path)
                except (OSError, sqlite3.Error) as exc:
                    raise BoardUnavailable(f"cannot open the alert state {self.path}: "
                                           f"{exc}") from None
            return self._state

    def read(self, now_ns: int) -> Board:
        state = self.state()
        try:
            silences = state.silences(now_ns)
            active = sorted(state.active().values(),
                            key=lambda r: (r.state != "firing", -r.since_ns))
            history = state.history(now_ns - HISTORY_DAYS * 86_400 * NS_PER_S,
                                    limit=MAX_HISTORY)
        except sqlite3.Error as exc:
            raise BoardUnavailable(f"cannot read the alert state {self.path}: {exc}") from None
        current = [s for s in silences if s.from_ns <= now_ns]
        views = [AlertView(row, max((s.until_ns for s in current if s.covers(row, now_ns)),
                                    default=None)) for row in active]
        return Board(views, [AlertView(row) for row in history], silences)

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._state.close()
                self._state = None


def choose(views: list[AlertView], *, status: str | None = None, site: str | None = None,
           severity: str | None = None, text: str | None = None,
           words: Callable[[AlertView], str] = lambda v: "") -> list[AlertView]:
    """The views that pass every filter given; `text` matches the rule, site, sensor or
    what `words` adds (e.g. names in the page's language), case-insensitively."""
    needle = (text or "").strip().casefold()[:MAX_TEXT_FILTER]
    out = []
    for view in views:
        row = view.row
        if status and view.status != status:
            continue
        if site and row.site != site:
            continue
        if severity and row.severity != severity:
            continue
        if needle and needle not in " ".join(
                (row.rule, row.site, row.sensor, row.detail, words(view))).casefold():
            continue
        out.append(view)
    return out


def install(server: Any, path: str | None) -> AlertBoard:
    board = AlertBoard(path)
    server.config[_KEY] = board
    return board


def board() -> AlertBoard:
    from flask import current_app

    found = current_app.config.get(_KEY)
    if not isinstance(found, AlertBoard):
        raise RuntimeError("the alert board was not installed on this app")
    return found
