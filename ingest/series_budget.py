"""A cap on new unregistered series per site and hour.

Every distinct (site, sensor, quantity) is a series in the store, and InfluxDB's memory and
query costs grow with their number. Catalogue sensors are bounded by the catalogue; ids that
arrive only in topics and payloads are not, so a flood of made-up ids would grow the series
count without end. `SeriesBudget.admit` lets through at most `per_hour` series per site and
clock hour that this process has not seen before; readings of further new series are
dead-lettered with the reason (the caller raises `Rejected`) and counted in `refused`.

"New" means new to this process: the known series are remembered in a bounded LRU, so after
a restart (or once evicted) a series counts against the hour's budget once more. Sites not in
the catalogue share one budget, so made-up site ids cannot multiply it. Only unregistered
readings reach this class, so the fast path of catalogue sensors never pays for it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from stadtpuls.units import Quantity

REMEMBERED_SERIES = 100_000
OTHER_SITES = None  # the budget key of every site the catalogue does not know


class SeriesBudget:
    def __init__(self, per_hour: int, *, clock: Callable[[], float] = time.time,
                 remember: int = REMEMBERED_SERIES) -> None:
        self.per_hour = per_hour
        self.refused = 0
        self._clock = clock
        self._remember = remember
        self._known: OrderedDict[tuple[str, str, Quantity], None] = OrderedDict()
        self._hours: dict[str | None, tuple[int, int]] = {}  # budget key -> (hour, admitted)
        self._lock = threading.Lock()  # the dead-letter replay may share a decoder

    def admit(self, budget_key: str | None, site: str, sensor: str, quantity: Quantity) -> bool:
        """Whether a reading of this unregistered series may be stored now."""
        series = (site, sensor, quantity)
        with self._lock:
            if series in self._known:
                self._known.move_to_end(series)
                return True
            hour = int(self._clock() // 3600)
            start, admitted = self._hours.get(budget_key, (hour, 0))
            if start != hour:
                admitted = 0
            if admitted >= self.per_hour:
                self.refused += 1
                return False
            self._hours[budget_key] = (hour, admitted + 1)
            self._known[series] = None
            if len(self._known) > self._remember:
                self._known.popitem(last=False)
            return True
