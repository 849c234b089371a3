"""Observations from the store: keyset paging over one or many Datastreams' series.

Order is `@iot.id` (Datastream id, then time; the default) or `phenomenonTime`/`resultTime`
(time, then Datastream id), ascending or descending. `@iot.nextLink` carries the key of the
last observation returned (`$skiptoken=<datastream>t<time ns>`, the observation id) and the
next page starts strictly after it, so paging neither loses nor repeats an observation while
readings are written at other times, and page n costs what page 1 costs (no offset scan).

Each series is read in batches with `StoreReader.readings` from the cursor on; several
series are merged by key. The store is asked for time windows, not for "the next 1,000 from
here to the end of time": InfluxDB 1.x opens every shard a query's range touches even with a
LIMIT (a year of weekly shards: 0.4–0.5 s), so a window starts at about twice the time
`limit` readings take at the sensor's interval, from the cursor (ascending: the first reading
when known; descending: now) and doubles while it comes back short. The windows tile the
range without gaps, so this changes the cost only, never the answer (readings dated in the
future fall into the first descending window, which reaches to the range's end).

What the store cannot filter (anything but time ranges and
`Datastream/id eq N`) is evaluated here, and one request reads at most `MAX_SCAN` readings:
a page that is not full by then ends with a nextLink at the last key read, which is exact
continuation too.

Implausible readings (outside the sensor's plausible range, marked by the ingest) are
published as stored, with `resultQuality: "implausible"` (others say "ok"), so counts agree
with the store and a client can drop them with `$filter=resultQuality eq 'ok'`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from opendata.sta.errors import bad_request
from opendata.sta.graph import Entity
from opendata.sta.ids import observation_id, parse_observation_id
from opendata.sta.instant import Instant
from opendata.sta.query import Order
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store.protocol import StoreReader
from stadtpuls.timebase import MAX_NS, MIN_NS, NS_PER_HOUR

MAX_SCAN = 100_000
BATCH = 1000
ALL_TIME = (MIN_NS, MAX_NS)
TIME_KEYS = (("phenomenonTime",), ("resultTime",))


@dataclass(frozen=True)
class Ordering:
    by_time: bool = False
    descending: bool = False

    @classmethod
    def of(cls, orderby: list[Order]) -> Ordering:
        if not orderby:
            return cls()
        first, rest = orderby[0], orderby[1:]
        if first.path not in ((("id",), *TIME_KEYS)) or any(o.path != ("id",) for o in rest):
            raise bad_request("Observations can be ordered by phenomenonTime, resultTime or "
                              "id (asc or desc), optionally followed by id")
        return cls(by_time=first.path != ("id",), descending=first.descending)

    def key(self, ds: int, time_ns: int) -> tuple[int, int]:
        return (time_ns, ds) if self.by_time else (ds, time_ns)


@dataclass(frozen=True)
class Stream:
    """One Datastream's series and what sizes its first window."""

    key: SeriesKey
    interval_ns: int
    first_ns: int | None = None  # its first reading, if known without asking the store


@dataclass
class Page:
    entities: list[Entity]
    next_token: str | None


def observation(ds: int, reading: Reading) -> Entity:
    t = Instant(reading.time_ns)
    return Entity("Observations", observation_id(ds, reading.time_ns), {
        "phenomenonTime": t, "resultTime": t, "result": reading.value,
        "resultQuality": "implausible" if reading.implausible else "ok",
    })


def read_one(store: StoreReader, key: SeriesKey, ds: int, time_ns: int) -> Entity | None:
    found = store.readings(key, time_ns, time_ns + 1, limit=1)
    return observation(ds, found[0]) if found else None


def page(
    store: StoreReader, streams: dict[int, Stream], ordering: Ordering,
    start_ns: int, end_ns: int, keep: Callable[[Entity], bool] | None,
    top: int, skip: int, token: str | None, now_ns: int,
) -> Page:
    """One page of `top` observations after `skip` matches (first page) or after `token`."""
    if top == 0:
        return Page([], None)
    cursor = None
    if token is not None:
        cursor = parse_observation_id(token)
        if cursor is None:
            raise bad_request(f"$skiptoken {token[:40]!r} is not one this service issued; "
                              "follow @iot.nextLink as given")
        skip = 0
    # one query answers a page: `top` plus the one that says whether there is a next page
    batch = BATCH + 1 if keep is not None else min(10 * BATCH, top + skip + 1)
    merged = _merged(store, streams, ordering, start_ns, end_ns, cursor, batch, now_ns)
    out: list[Entity] = []
    last: tuple[int, int] | None = None
    for scanned, (ds, reading) in enumerate(merged, 1):
        entity = observation(ds, reading)
        if keep is None or keep(entity):
            if skip:
                skip -= 1
            elif len(out) == top:
                return Page(out, _token(out[-1]) if out else _token_of(last))
            else:
                out.append(entity)
        last = (ds, reading.time_ns)
        if scanned >= MAX_SCAN:
            more = next(merged, None) is not None
            return Page(out, observation_id(*last) if more else None)
    return Page(out, None)


def count(
    store: StoreReader, streams: dict[int, Stream], start_ns: int, end_ns: int,
    keep: Callable[[Entity], bool] | None, now_ns: int,
) -> int:
    """How many observations match, whatever the page; a residual filter scans (bounded)."""
    if keep is None:
        total = 0
        keys = [s.key for s in streams.values()]
        for site in sorted({k.site for k in keys}):
            counts = store.counts(start_ns, end_ns, site)
            total += sum(counts.get(k, 0) for k in keys if k.site == site)
        return total
    found = 0
    for scanned, (ds, reading) in enumerate(
            _merged(store, streams, Ordering(), start_ns, end_ns, None, BATCH, now_ns), 1):
        if scanned > MAX_SCAN:
            raise bad_request(f"$count with this $filter would read more than {MAX_SCAN} "
                              "observations; narrow it by phenomenonTime")
        found += keep(observation(ds, reading))
    return found


def _token(entity: Entity) -> str:
    return str(entity.id)


def _token_of(last: tuple[int, int] | None) -> str | None:
    return None if last is None else observation_id(*last)


def _merged(
    store: StoreReader, streams: dict[int, Stream], ordering: Ordering, start_ns: int,
    end_ns: int, cursor: tuple[int, int] | None, batch: int, now_ns: int,
) -> Iterator[tuple[int, Reading]]:
    ids = sorted(streams, reverse=ordering.descending)
    iters = []
    for ds in ids:
        window = _window(ordering, ds, start_ns, end_ns, cursor)
        if window is not None:
            iters.append(_series(store, ds, streams[ds], *window, ordering.descending, batch,
                                 now_ns))
    if not ordering.by_time:
        return itertools.chain.from_iterable(iters)  # lazily: one series after the other
    return heapq.merge(*iters, key=lambda item: (item[1].time_ns, item[0]),
                       reverse=ordering.descending)


def _window(ordering: Ordering, ds: int, start: int, end: int,
            cursor: tuple[int, int] | None) -> tuple[int, int] | None:
    """The part of [start, end) of series `ds` that lies strictly after the cursor."""
    if cursor is not None:
        c_ds, c_t = cursor
        if not ordering.descending:
            if ordering.by_time:
                start = max(start, c_t if ds > c_ds else c_t + 1)
            elif ds < c_ds:
                return None
            elif ds == c_ds:
                start = max(start, c_t + 1)
        elif ordering.by_time:
            end = min(end, c_t + 1 if ds < c_ds else c_t)
        elif ds > c_ds:
            return None
        elif ds == c_ds:
            end = min(end, c_t)
    return (start, end) if start < end else None


def _series(store: StoreReader, ds: int, stream: Stream, start: int, end: int,
            descending: bool, batch: int, now_ns: int) -> Iterator[tuple[int, Reading]]:
    width = max(2 * batch * stream.interval_ns, NS_PER_HOUR)
    if descending:
        anchor = min(end, max(start, now_ns))
    else:
        anchor = max(start, min(end, stream.first_ns if stream.first_ns is not None else start))
        if stream.first_ns is None and start == MIN_NS:
            width = MAX_NS - MIN_NS  # nothing to anchor on: one query over the whole range
    while start < end:
        if descending:
            top = min(end, anchor)
            cut = start if top - start <= width else top - width
            rows = store.readings(stream.key, cut, end, limit=batch, descending=True)
        else:
            bottom = max(start, anchor)
            cut = end if end - bottom <= width else bottom + width
            rows = store.readings(stream.key, start, cut, limit=batch)
        for row in rows:
            yield ds, row
        if len(rows) == batch:  # the window holds more: continue inside it
            if descending:
                end = rows[-1].time_ns
            else:
                start = rows[-1].time_ns + 1
            continue
        if descending:  # the window is exhausted: the next one, twice as wide
            end = anchor = cut
        else:
            start = anchor = cut
        width *= 2
