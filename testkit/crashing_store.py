"""`CrashingStore`: a real store whose first writes raise an exception no store should raise.

It wraps a real `Store` (SQLite in the tests): the first `crashes` writes raise `exc` (a
`RuntimeError` by default, i.e. a bug, not "unavailable" or "rejected"); every write after
that reaches the real store. Used to show the ingest survives what nobody classified.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from stadtpuls.reading import Reading
from stadtpuls.store.protocol import StoreWriter


class CrashingStore:
    def __init__(self, inner: StoreWriter, crashes: int = 1,
                 exc: type[Exception] = RuntimeError) -> None:
        self.inner = inner
        self.crashes_left = crashes
        self.exc = exc
        self._lock = threading.Lock()

    def write(self, readings: Sequence[Reading]) -> None:
        with self._lock:
            crash = self.crashes_left > 0
            self.crashes_left -= crash
        if crash:
            raise self.exc("injected crash in the store's write")
        self.inner.write(readings)

    def close(self) -> None:
        self.inner.close()
