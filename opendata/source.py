"""What the open-data routes need from their host app, as protocols (no dashboard import).

The dashboard's `DataSource` fits: its store behind the shared single-flight TTL cache, the
catalogue and the clock. First and last reading of each dataset (the DCAT temporal coverage
and the oldest file) are asked here, through that cache.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Protocol, TypeVar

from opendata.datasets import Dataset
from stadtpuls.catalogue import Catalogue
from stadtpuls.store.protocol import StoreReader
from stadtpuls.timebase import MAX_NS, MIN_NS, NS_PER_S

T = TypeVar("T")

COVERAGE_TTL_S = 300.0


class MemoReader(Protocol):
    @property
    def store(self) -> StoreReader: ...

    def memo(self, key: Hashable, compute: Callable[[], T], ttl_s: float) -> T: ...


class Source(Protocol):
    @property
    def reader(self) -> MemoReader: ...

    @property
    def catalogue(self) -> Catalogue: ...

    @property
    def clock(self) -> Callable[[], float]: ...


def now_ns(source: Source) -> int:
    return int(source.clock() * NS_PER_S)


def coverage(source: Source, dataset: Dataset) -> tuple[int, int] | None:
    """(first, last) reading time of the dataset, None without readings; cached 5 min."""
    store = source.reader.store

    def ask() -> tuple[int, int] | None:
        first = store.readings(dataset.key, MIN_NS, MAX_NS, limit=1)
        last = store.readings(dataset.key, MIN_NS, MAX_NS, limit=1, descending=True)
        return (first[0].time_ns, last[0].time_ns) if first and last else None

    return source.reader.memo(("opendata.coverage", dataset.key), ask, COVERAGE_TTL_S)
