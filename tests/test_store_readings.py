"""`StoreReader.readings`: raw readings of one series, bounded and paged, in both stores.

The open-data files are built from it, so it must return exactly what was written: every
value bit for bit, marks included, in time order, without crossing into other series.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store import Store
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer

T0 = 1_750_000_000 * 10**9
S = 10**9


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s: Store = SQLiteStore(tmp_path / "readings.db")
    else:
        db = request.getfixturevalue("influx_db")
        server: InfluxServer = request.getfixturevalue("influx")
        s = InfluxStore(server.url, f"{db}/autogen")
    yield s
    s.close()


def _written(store: Store) -> list[Reading]:
    rng = random.Random(3)
    mine = [Reading("site", "a", Quantity.POWER, T0 + k * 60 * S + rng.randrange(S),
                    rng.uniform(-1e6, 1e6), implausible=k % 7 == 0) for k in range(1_000)]
    others = [Reading("site", "b", Quantity.POWER, r.time_ns, 1.0) for r in mine[:50]]
    others += [Reading("site", "a", Quantity.ENERGY, r.time_ns, 2.0) for r in mine[:50]]
    shuffled = mine + others
    rng.shuffle(shuffled)
    store.write(shuffled)
    return mine


@pytest.mark.integration
def test_readings_pages_through_one_series_exactly(store: Store) -> None:
    mine = _written(store)
    key = SeriesKey("site", "a", Quantity.POWER)
    got: list[Reading] = []
    start = T0
    while True:
        page = store.readings(key, start, T0 + 10**6 * S, limit=128)
        got += page
        if len(page) < 128:
            break
        start = page[-1].time_ns + 1
    assert got == sorted(mine, key=lambda r: r.time_ns)


@pytest.mark.integration
def test_readings_bounds_limit_and_descending(store: Store) -> None:
    mine = sorted(_written(store), key=lambda r: r.time_ns)
    key = SeriesKey("site", "a", Quantity.POWER)
    start, end = mine[10].time_ns, mine[20].time_ns  # half-open: 10 .. 19
    assert store.readings(key, start, end, limit=100) == mine[10:20]
    assert store.readings(key, start, end, limit=3) == mine[10:13]
    assert store.readings(key, start, end, limit=3, descending=True) == mine[19:16:-1]
    assert store.readings(SeriesKey("site", "zz", Quantity.POWER), start, end, limit=10) == []
    with pytest.raises(ValueError, match="limit"):
        store.readings(key, start, end, limit=0)
