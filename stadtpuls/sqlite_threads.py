"""One SQLite connection per thread, all closed together.

sqlite3 connections must not be shared across threads, and the dashboard (a WSGI thread pool)
and the alert evaluator (evaluation and sender threads) read from several; used by the SQLite
store and the alert state.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable


class ThreadConnections:
    """Each thread's own connection; `close` never touches another thread's.

    Closing a connection while its thread runs a statement on it crashes the interpreter
    (a segmentation fault, seen when a store was closed while the dashboard's warm-up thread
    read from it). So `close` closes the calling thread's connection and marks the set
    closed; every other thread closes its own at its next `get` (which then raises), or
    when the thread ends.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._local = threading.local()
        self._closed = False

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if self._closed:
            if conn is not None:
                self._local.conn = None
                conn.close()
            raise sqlite3.ProgrammingError("the database was closed")
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        self._closed = True
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            conn.close()
