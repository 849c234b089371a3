"""A shared TTL cache with single-flight, and the store's read side behind it.

Every viewer of a panel asks the same question in the same refresh period: "the newest
readings of site X as of the current 10-second bucket". Callers therefore align their time
ranges to buckets (`bucket_end`), so identical questions have identical keys, and the cache
answers all but the first. Single-flight closes the remaining gap: when 50 viewers miss the
cache at the same instant, one thread queries the store and the other 49 wait for its answer
instead of sending 49 more queries.

Cached values are shared between threads: callers must treat them as read-only.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store.protocol import Aggregate, StoreReader, WindowSeries
from stadtpuls.timebase import NS_PER_S

T = TypeVar("T")



def bucket_end(now_ns: int, bucket_s: float) -> int:
    """`now` rounded up to the next multiple of `bucket_s`: the shared end of a time range.

    Rounding up (not down) keeps the newest readings inside the half-open range [start, end).
    """
    step = max(1, int(bucket_s * NS_PER_S))
    return -(-now_ns // step) * step


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    waits: int = 0
    """Requests that found the same key being computed and waited for it (single-flight)."""


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class TTLCache:
    """Thread-safe key → value cache; entries expire after their TTL, oldest evicted first."""

    def __init__(
        self, *, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock
        self.stats = CacheStats()

    def get(self, key: Hashable, compute: Callable[[], T], ttl_s: float) -> T:
        """The cached value for `key`, computing it (once, however many callers) if needed.

        If `compute` raises, every caller waiting on it gets the same exception and nothing
        is cached, so the next refresh tries again.
        """
        with self._lock:
            now = self._clock()
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                self.stats.hits += 1
                return cast(T, entry[1])
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self.stats.misses += 1
            else:
                self.stats.waits += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return cast(T, flight.value)
        try:
            value = compute()
        except BaseException as exc:
            flight.error = exc
            raise
        else:
            flight.value = value
            with self._lock:
                self._entries[key] = (self._clock() + ttl_s, value)
                self._entries.move_to_end(key)
                self._evict()
            return value
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _evict(self) -> None:
        now = self._clock()
        expired = [k for k, (expiry, _) in self._entries.items() if expiry <= now]
        for k in expired:
            del self._entries[k]
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class CachedStore:
    """The read methods of a `StoreReader`, answered through a `TTLCache`.

    The key is the method and its exact arguments, so time ranges must already be aligned
    to buckets by the caller; `ttl_s` should be about the bucket length.
    """

    def __init__(self, store: StoreReader, cache: TTLCache) -> None:
        self.store = store
        self.cache = cache

    def latest(
        self, site: str | None, since_ns: int | None, *, ttl_s: float,
        until_ns: int | None = None, keys: Sequence[SeriesKey] | None = None,
    ) -> dict[SeriesKey, Reading]:
        wanted = None if keys is None else tuple(sorted(keys))
        key = ("latest", site, since_ns, until_ns, wanted)
        return self.cache.get(
            key, lambda: self.store.latest(site, since_ns, until_ns, keys=wanted), ttl_s)

    def aggregate(
        self,
        series: Iterable[SeriesKey],
        start_ns: int,
        end_ns: int,
        window_ns: int,
        aggregates: Sequence[Aggregate],
        *,
        ttl_s: float,
        offset_ns: int = 0,
        exclude_implausible: bool = False,
    ) -> dict[SeriesKey, WindowSeries]:
        keys = tuple(sorted(set(series)))
        aggs = tuple(aggregates)
        key = ("aggregate", keys, start_ns, end_ns, window_ns, aggs, offset_ns,
               exclude_implausible)
        return self.cache.get(
            key,
            lambda: self.store.aggregate(keys, start_ns, end_ns, window_ns, aggs,
                                         offset_ns=offset_ns,
                                         exclude_implausible=exclude_implausible),
            ttl_s,
        )

    def counts(
        self, start_ns: int, end_ns: int, site: str | None, *, ttl_s: float
    ) -> dict[SeriesKey, int]:
        key = ("counts", start_ns, end_ns, site)
        return self.cache.get(key, lambda: self.store.counts(start_ns, end_ns, site), ttl_s)

    def memo(self, key: Hashable, compute: Callable[[], T], ttl_s: float) -> T:
        """Cache a derived result (a page's data built from several queries) the same way."""
        return self.cache.get(("memo", key), compute, ttl_s)
