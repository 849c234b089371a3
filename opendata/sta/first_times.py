"""Each Datastream's first stored reading: the HistoricalLocations' times and paging anchors.

Finding a series' first reading reads from the beginning of time: InfluxDB 1.x opens every
shard of the range for it (about 0.4 s for a year of weekly shards), so 30 Datastreams would
cost a request seconds. The answer changes only when older data is back-filled, so it is
computed once in the background when the service starts, and refreshed in the background
once it is older than `TTL_S`; requests use what is there and wait only if nothing is yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from stadtpuls.reading import SeriesKey
from stadtpuls.store.errors import StoreError
from stadtpuls.store.protocol import StoreReader
from stadtpuls.timebase import MAX_NS, MIN_NS

TTL_S = 3600.0
_log = logging.getLogger(__name__)


class FirstTimes:
    def __init__(self, store: StoreReader, series: dict[int, SeriesKey],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._series = dict(series)
        self._clock = clock
        self._cached: tuple[float, dict[int, int]] | None = None
        self._lock = threading.Lock()  # guards _cached and _refreshing
        self._compute_lock = threading.Lock()  # one computation at a time
        self._refreshing = False

    def start(self) -> None:
        """Compute in the background now, so the first request finds it ready."""
        self._refresh_in_background()

    def peek(self) -> dict[int, int]:
        """What is known, without asking the store (empty before the first computation)."""
        cached = self._cached
        return cached[1] if cached is not None else {}

    def get(self) -> dict[int, int]:
        """The first times; waits only for the very first computation."""
        with self._lock:
            cached = self._cached
            stale = cached is not None and self._clock() - cached[0] > TTL_S
        if cached is None:
            return self._compute()
        if stale:
            self._refresh_in_background()
        return cached[1]

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
        threading.Thread(target=self._background, name="sta-first-times", daemon=True).start()

    def _background(self) -> None:
        try:
            self._compute()
        except StoreError as exc:  # keep what we had; the next stale request tries again
            _log.warning("SensorThings: first readings not refreshed: %s", exc)
        except Exception:  # a closed store at shutdown, a bug: logged, never a dead request
            _log.exception("SensorThings: first readings not refreshed")
        finally:
            with self._lock:
                self._refreshing = False

    def _compute(self) -> dict[int, int]:
        with self._compute_lock:
            started = self._clock()
            cached = self._cached
            if cached is not None and started - cached[0] <= TTL_S:
                return cached[1]  # another thread just did it
            first: dict[int, int] = {}
            for ds, key in self._series.items():
                found = self._store.readings(key, MIN_NS, MAX_NS, limit=1)
                if found:
                    first[ds] = found[0].time_ns
            with self._lock:
                self._cached = (started, first)
            return first
