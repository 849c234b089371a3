"""Work a server starts for itself, once in each process, at its first request.

Not when the app is built: gunicorn builds it and then forks its worker, and a thread that
runs at the fork leaves the locks it holds held for ever in the worker, with its half-done
state (seen: the dashboard's warm-up held the shared state's lock, and every overview
refresh in the worker waited for ever). At the first request the process is the one that
serves; after a fork the child starts its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class OncePerProcess:
    """A callable (e.g. a Flask `before_request` hook) that calls `start` the first time it
    is called in each process."""

    def __init__(self, start: Callable[[], None]) -> None:
        self._start = start
        self._pid: int | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
        self._start()
