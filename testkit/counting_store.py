"""`CountingStore`: a real store that counts its read queries (and its write calls), for cache
and refusal tests and benches.

It wraps a real `Store` (never a fake): the counts say how many queries reached the database.
`delay_s` makes each read slow enough that concurrent requests overlap, which is what a
single-flight cache has to handle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store.protocol import Aggregate, Store, WindowSeries


class CountingStore:
    def __init__(self, inner: Store, delay_s: float = 0.0) -> None:
        self.inner = inner
        self.delay_s = delay_s
        self.queries = 0
        self.writes = 0
        self._lock = threading.Lock()

    def _count(self) -> None:
        with self._lock:
            self.queries += 1
        if self.delay_s:
            time.sleep(self.delay_s)

    def write(self, readings: Sequence[Reading]) -> None:
        with self._lock:
            self.writes += 1
        self.inner.write(readings)

    def latest(
        self, site: str | None = None, since_ns: int | None = None,
        until_ns: int | None = None, *, keys: Sequence[SeriesKey] | None = None,
    ) -> dict[SeriesKey, Reading]:
        self._count()
        return self.inner.latest(site, since_ns, until_ns, keys=keys)

    def aggregate(
        self,
        series: Iterable[SeriesKey],
        start_ns: int,
        end_ns: int,
        window_ns: int,
        aggregates: Sequence[Aggregate],
        *,
        offset_ns: int = 0,
        exclude_implausible: bool = False,
    ) -> dict[SeriesKey, WindowSeries]:
        self._count()
        return self.inner.aggregate(series, start_ns, end_ns, window_ns, aggregates,
                                    offset_ns=offset_ns, exclude_implausible=exclude_implausible)

    def counts(
        self, start_ns: int, end_ns: int, site: str | None = None
    ) -> dict[SeriesKey, int]:
        self._count()
        return self.inner.counts(start_ns, end_ns, site)

    def readings(
        self, series: SeriesKey, start_ns: int, end_ns: int, *, limit: int,
        descending: bool = False,
    ) -> list[Reading]:
        self._count()
        return self.inner.readings(series, start_ns, end_ns, limit=limit, descending=descending)

    def close(self) -> None:
        self.inner.close()
