"""One contract for every `Store`: SQLite and the real InfluxDB pass the same tests.

The InfluxDB runs are against the session's real influxd (1.6.7 behind the v2-write route
adapter, see conftest.py); nothing is mocked.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store import Aggregate, Store, StoreRejected, StoreUnavailable, line_protocol
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import MAX_NS, MIN_NS
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_750_000_000 * 10**9  # 2025-06-15T15:06:40Z
MIN = 60 * 10**9
HOUR = 60 * MIN

HOSTILE_IDS = [
    "x' OR 1=1 --",
    'a"b',
    "sensor;DROP DATABASE stadtpuls",
    "Straße-Ümlaut-日本-🚲",
    "with space, comma=equals",
    "back\\slash",
    "$sensor0",
]


def _dataset(n_sensors: int = 20, per_sensor: int = 5_000, seed: int = 7) -> list[Reading]:
    rng = random.Random(seed)
    quantities = [Quantity.POWER, Quantity.TEMPERATURE, Quantity.CO2, Quantity.ENERGY]
    readings = []
    for i in range(n_sensors):
        q = quantities[i % len(quantities)]
        site = "stuehlinger" if i % 2 else "freiburg"
        for k in range(per_sensor):
            # A jitter inside the minute keeps window boundaries honest.
            t = T0 + k * MIN + rng.randrange(0, MIN // 2)
            readings.append(Reading(site, f"s{i:02d}", q, t, rng.uniform(-50.0, 5_000.0),
                                    implausible=rng.random() < 0.01))
    rng.shuffle(readings)  # arrival order is not time order
    return readings


def _truth(readings: list[Reading], window: int) -> dict[SeriesKey, dict[int, list[float]]]:
    by: dict[SeriesKey, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in sorted(readings, key=lambda r: r.time_ns):
        by[r.key][r.time_ns - r.time_ns % window].append(r.value)
    return by


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


@pytest.mark.integration
def test_round_trip_100k_readings_agrees_with_ground_truth(store: Store) -> None:
    readings = _dataset()
    assert len(readings) == 100_000
    store.write(readings)

    end = T0 + 5_000 * MIN
    counts = store.counts(T0, end)
    assert sum(counts.values()) == 100_000
    assert len(counts) == 20 and set(counts.values()) == {5_000}

    newest = {}
    for r in readings:
        if r.key not in newest or r.time_ns > newest[r.key].time_ns:
            newest[r.key] = r
    assert store.latest() == newest

    truth = _truth(readings, HOUR)
    aggs = [Aggregate.MEAN, Aggregate.MIN, Aggregate.MAX, Aggregate.COUNT]
    result = store.aggregate(list(truth), T0, end, HOUR, aggs)
    assert set(result) == set(truth)
    for key, windows in truth.items():
        got = result[key]
        assert got.times == sorted(windows)
        for i, w in enumerate(got.times):
            values = windows[w]
            assert _close(got.values[Aggregate.MEAN][i], math.fsum(values) / len(values))
            assert got.values[Aggregate.MIN][i] == min(values)
            assert got.values[Aggregate.MAX][i] == max(values)
            assert got.values[Aggregate.COUNT][i] == len(values)


@pytest.mark.integration
def test_sqlite_and_influx_agree(influx: InfluxServer, influx_db: str, tmp_path: Path) -> None:
    readings = _dataset(seed=11)  # the 100,000 readings from 20 sensors
    sqlite = SQLiteStore(tmp_path / "a.db")
    influx_store = InfluxStore(influx.url, influx_db)
    try:
        for s in (sqlite, influx_store):
            s.write(readings)
        end = T0 + 5_000 * MIN
        assert sqlite.counts(T0, end) == influx_store.counts(T0, end)
        assert sqlite.latest() == influx_store.latest()
        keys = sorted(sqlite.counts(T0, end))
        aggs = [a for a in Aggregate if a is not Aggregate.ENERGY]  # ENERGY: own tests
        for window in (15 * MIN, HOUR, 24 * HOUR):
            a = sqlite.aggregate(keys, T0, end, window, aggs, offset_ns=7 * MIN)
            b = influx_store.aggregate(keys, T0, end, window, aggs, offset_ns=7 * MIN)
            assert a.keys() == b.keys()
            for key in a:
                assert a[key].times == b[key].times
                for agg in aggs:
                    for x, y in zip(a[key].values[agg], b[key].values[agg], strict=True):
                        assert _close(x, y), (key, agg, window)
    finally:
        sqlite.close()
        influx_store.close()


@pytest.mark.integration
def test_duplicates_overwrite_and_out_of_order_is_fine(store: Store) -> None:
    key = SeriesKey("stuehlinger", "pv_facade_s_power", Quantity.POWER)
    first = [Reading(key.site, key.sensor, key.quantity, T0 + i * MIN, float(i)) for i in range(10)]
    store.write(list(reversed(first)))
    # The same identities again, with new values and a mark: overwrite, never double.
    again = [Reading(key.site, key.sensor, key.quantity, T0 + i * MIN, 100.0 + i,
                     implausible=True) for i in range(0, 10, 2)]
    store.write(again)
    store.write(again)
    assert store.counts(T0, T0 + HOUR) == {key: 10}
    series = store.aggregate([key], T0, T0 + HOUR, MIN, [Aggregate.LAST, Aggregate.COUNT])[key]
    assert series.values[Aggregate.COUNT] == [1.0] * 10
    assert series.values[Aggregate.LAST] == [100.0, 1, 102, 3, 104, 5, 106, 7, 108, 9]
    assert store.latest()[key] == first[-1]
    plausible = store.aggregate([key], T0, T0 + HOUR, HOUR, [Aggregate.SUM],
                                exclude_implausible=True)[key]
    assert plausible.values[Aggregate.SUM] == [1.0 + 3 + 5 + 7 + 9]


@pytest.mark.integration
def test_last_min_max_and_offset_windows(store: Store) -> None:
    key = SeriesKey("s", "meter", Quantity.ENERGY)
    values = [5.0, 1.0, 9.0, 3.0]
    store.write([Reading("s", "meter", Quantity.ENERGY, T0 + i * 15 * MIN, v)
                 for i, v in enumerate(values)])
    aligned = T0 - T0 % HOUR
    offset = (T0 - aligned) % HOUR
    plain = [a for a in Aggregate if a is not Aggregate.ENERGY]
    res = store.aggregate([key], T0, T0 + HOUR, HOUR, plain, offset_ns=offset)[key]
    assert res.times == [T0]
    assert res.values[Aggregate.LAST] == [3.0]
    assert res.values[Aggregate.MIN] == [1.0]
    assert res.values[Aggregate.MAX] == [9.0]
    assert res.values[Aggregate.SUM] == [18.0]
    assert res.values[Aggregate.MEAN] == [4.5]
    # A range without data: the series is absent, not an empty list or zeros.
    assert store.aggregate([key], T0 - HOUR, T0, MIN, [Aggregate.MEAN]) == {}
    assert store.counts(T0 - HOUR, T0) == {}


@pytest.mark.integration
def test_hostile_ids_round_trip_and_cannot_alter_queries(store: Store) -> None:
    readings = [
        Reading("site'; --", sid, Quantity.NOISE, T0 + i * MIN, float(i))
        for i, sid in enumerate(HOSTILE_IDS)
    ]
    store.write(readings)
    latest = store.latest()
    assert {k.sensor for k in latest} == set(HOSTILE_IDS)
    for r in readings:
        assert latest[r.key] == r
        only = store.aggregate([r.key], T0, T0 + HOUR, HOUR, [Aggregate.COUNT, Aggregate.LAST])
        assert list(only) == [r.key]
        assert only[r.key].values[Aggregate.LAST] == [r.value]
    assert set(store.counts(T0, T0 + HOUR, site="site'; --").values()) == {1}
    assert store.counts(T0, T0 + HOUR, site="x' OR 1=1 --") == {}
    assert store.latest(site="' OR ''='") == {}
    # Still all there: no statement smuggled in a value ran.
    assert len(store.latest()) == len(HOSTILE_IDS)


def test_line_prefixes_are_kept_across_batches_per_series_and_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The prefix cache outlives a batch: each line must still carry its own series' tags,
    # escaped, with its own marks, in batch after batch and after the bound empties it.
    monkeypatch.setattr(line_protocol, "_PREFIXES", {})
    monkeypatch.setattr(line_protocol, "_MAX_PREFIXES", 3)
    series = [("a b", "s,1", Quantity.POWER), ("a b", "s,1", Quantity.ENERGY),
              ("x=y", "s,1", Quantity.POWER), ("x", "s 2", Quantity.POWER)]
    expected = {("a b", "s,1", Quantity.POWER): r"power,sensor=s\,1,site=a\ b",
                ("a b", "s,1", Quantity.ENERGY): r"energy,sensor=s\,1,site=a\ b",
                ("x=y", "s,1", Quantity.POWER): r"power,sensor=s\,1,site=x\=y",
                ("x", "s 2", Quantity.POWER): r"power,sensor=s\ 2,site=x"}
    for batch in range(3):
        readings = [Reading(site, sensor, q, T0 + batch * MIN + i, 1.5 + i,
                            implausible=bool(i % 2), unregistered=i == 3)
                    for i, (site, sensor, q) in enumerate(series)]
        lines = line_protocol.encode_lines(readings).split("\n")
        assert lines == [
            f"{expected[(r.site, r.sensor, r.quantity)]} value={r.value!r},"
            f"implausible={str(r.implausible).lower()}"
            f"{',unregistered=true' if r.unregistered else ''} {r.time_ns}" for r in readings]
        assert len(line_protocol._PREFIXES) <= 3


@pytest.mark.integration
def test_marks_read_back_as_written_also_where_no_reading_is_unregistered(store: Store) -> None:
    # InfluxDB gets `unregistered` only when true (influxd pays per field and series): a
    # measurement without any unregistered reading has no such field at all.
    marked = [Reading("a", "m", Quantity.POWER, T0 + i * MIN, float(i), implausible=i % 2 == 1,
                      unregistered=i >= 2) for i in range(4)]
    plain = [Reading("a", "p", Quantity.CO2, T0 + i * MIN, float(i), implausible=i == 1)
             for i in range(3)]
    store.write(marked + plain)
    assert store.readings(marked[0].key, T0, T0 + HOUR, limit=10) == marked
    assert store.readings(plain[0].key, T0, T0 + HOUR, limit=10) == plain
    assert store.latest() == {marked[0].key: marked[-1], plain[0].key: plain[-1]}
    assert store.latest(keys=[plain[0].key]) == {plain[0].key: plain[-1]}
    plausible = store.aggregate([marked[0].key], T0, T0 + HOUR, HOUR, [Aggregate.COUNT],
                                exclude_implausible=True)[marked[0].key]
    assert plausible.values[Aggregate.COUNT] == [2.0]


@pytest.mark.integration
def test_latest_filters_by_site_and_age(store: Store) -> None:
    store.write([
        Reading("a", "x", Quantity.CO2, T0, 400.0),
        Reading("a", "x", Quantity.CO2, T0 + HOUR, 800.0),
        Reading("b", "y", Quantity.CO2, T0, 500.0),
    ])
    assert [r.value for r in store.latest(site="a").values()] == [800.0]
    assert set(store.latest(since_ns=T0 + MIN)) == {SeriesKey("a", "x", Quantity.CO2)}
    # an upper bound (half-open): a reading dated later does not hide the one before it
    assert [r.value for r in store.latest(site="a", until_ns=T0 + HOUR).values()] == [400.0]
    assert store.latest(site="a", until_ns=T0) == {}
    assert store.latest(since_ns=T0 + MIN, until_ns=T0 + HOUR) == {}


@pytest.mark.integration
def test_latest_of_named_series_only(store: Store) -> None:
    # The dashboard asks a city's store only for the overdue series (dashboard/data/status.py).
    readings = [Reading("a", f"s{i}", Quantity.CO2, T0 + k * MIN, float(i * 10 + k))
                for i in range(300) for k in range(3)]
    readings.append(Reading("b", HOSTILE_IDS[0], Quantity.CO2, T0, 1.0))
    store.write(readings)
    wanted = [SeriesKey("a", f"s{i}", Quantity.CO2) for i in range(0, 300, 7)]
    wanted.append(SeriesKey("b", HOSTILE_IDS[0], Quantity.CO2))
    wanted.append(SeriesKey("a", "never-seen", Quantity.CO2))
    found = store.latest(keys=wanted)
    # More than one query's worth of series (InfluxDB names 250 per query), none left out.
    assert set(found) == set(wanted[:-1])
    assert found[SeriesKey("a", "s7", Quantity.CO2)].value == 72.0
    assert found[wanted[-2]].value == 1.0
    assert store.latest(keys=[]) == {}
    assert set(store.latest(since_ns=T0 + MIN, keys=wanted)) == set(wanted[:-2])


@pytest.mark.integration
def test_the_storable_time_range_of_a_reading_is_the_stores(store: Store) -> None:
    # Reading refuses times outside it (tests/test_ingest_edge.py); influxd 1.6.7 refuses
    # the next value on either side, SQLite would overflow beyond int64.
    edges = [Reading("a", "t", Quantity.CO2, t, 1.0) for t in (MIN_NS, MAX_NS - 1)]
    store.write(edges)
    assert store.counts(MIN_NS, MAX_NS, "a") == {SeriesKey("a", "t", Quantity.CO2): 2}
    assert store.latest("a")[SeriesKey("a", "t", Quantity.CO2)].time_ns == MAX_NS - 1


def test_reading_rejects_what_no_store_can_keep() -> None:
    with pytest.raises(ValueError, match="not finite"):
        Reading("s", "x", Quantity.POWER, T0, math.nan)
    with pytest.raises(ValueError, match="control characters"):
        Reading("s", "line\nbreak", Quantity.POWER, T0, 1.0)
    with pytest.raises(ValueError, match="backslash"):
        Reading("s", "trailing\\", Quantity.POWER, T0, 1.0)
    with pytest.raises(ValueError, match="empty"):
        Reading("s", "", Quantity.POWER, T0, 1.0)


@pytest.mark.integration
def test_influx_unreachable_is_retry_later(tmp_path: Path) -> None:
    from testkit.servers import free_port

    s = InfluxStore(f"http://127.0.0.1:{free_port()}", "nowhere", retries=1, backoff_s=0.01)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        s.write([Reading("s", "x", Quantity.POWER, T0, 1.0)])
    with pytest.raises(StoreUnavailable, match="unreachable"):
        s.latest()
    s.close()


@pytest.mark.integration
def test_influx_errors_are_translated(influx: InfluxServer, influx_db: str) -> None:
    missing = InfluxStore(influx.url, "no_such_db", retries=0)
    with pytest.raises(StoreUnavailable, match="no bucket 'no_such_db'"):
        missing.write([Reading("s", "x", Quantity.POWER, T0, 1.0)])
    assert missing.latest() == {}
    missing.close()

    # A field-type conflict is the data's fault: rejected, not retried.
    # (field types are fixed per shard, so the conflicting point shares the shard's time)
    body = f'power,sensor=x,site=s value="text" {T0}'.encode()
    req = urllib.request.Request(f"{influx.direct_url}/write?db={influx_db}", data=body,
                                 method="POST")
    urllib.request.urlopen(req).close()
    s = InfluxStore(influx.url, influx_db, retries=3)
    with pytest.raises(StoreRejected, match="HTTP 400"):
        s.write([Reading("s", "x", Quantity.POWER, T0, 1.0)])
    s.close()


_READER = """
import sys, time
from stadtpuls.store.sqlite import SQLiteStore
store = SQLiteStore(sys.argv[1])
seen = 0
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    seen = sum(store.counts(0, 2**62).values())
    if seen >= int(sys.argv[2]):
        break
print(seen)
"""


def test_sqlite_several_processes_read_while_one_writes(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "shared.db"
    writer = SQLiteStore(path)
    total = 20_000
    readers = [
        subprocess.Popen([sys.executable, "-c", _READER, str(path), str(total)],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for batch in range(20):
        writer.write([Reading("s", f"x{batch}", Quantity.COUNT, T0 + i, float(i))
                      for i in range(total // 20)])
    outputs = [p.communicate(timeout=90)[0] for p in readers]
    assert [p.returncode for p in readers] == [0, 0, 0]
    assert [int(o) for o in outputs] == [total] * 3
    writer.close()


@pytest.mark.integration
def test_readings_are_raw_points_in_order_with_a_limit(store: Store) -> None:
    key = SeriesKey("s", "x' OR 1=1 --", Quantity.TEMPERATURE)
    other = SeriesKey("s", "other", Quantity.TEMPERATURE)
    points = [Reading(key.site, key.sensor, key.quantity, T0 + i * MIN, float(i),
                      implausible=i == 3) for i in range(10)]
    store.write(list(reversed(points)))
    store.write([Reading(other.site, other.sensor, other.quantity, T0 + 30 * 10**9, 99.0),
                 Reading(key.site, key.sensor, Quantity.CO2, T0, 400.0)])
    assert store.readings(key, T0, T0 + HOUR, limit=100) == points
    assert store.readings(key, T0, T0 + HOUR, limit=3) == points[:3]
    assert store.readings(key, T0, T0 + HOUR, limit=3, descending=True) == points[:-4:-1]
    # half-open range; a continuation after the last time seen is exact
    assert store.readings(key, T0 + MIN, T0 + 4 * MIN, limit=100) == points[1:4]
    assert store.readings(key, points[2].time_ns + 1, T0 + HOUR, limit=2) == points[3:5]
    assert store.readings(key, T0, points[5].time_ns, limit=2, descending=True) == [
        points[4], points[3]]
    assert store.readings(key, T0 + HOUR, T0 + 2 * HOUR, limit=5) == []
    assert store.readings(SeriesKey("s", "' OR ''='", Quantity.TEMPERATURE),
                          T0, T0 + HOUR, limit=5) == []
    with pytest.raises(ValueError, match="limit"):
        store.readings(key, T0, T0 + HOUR, limit=0)


def test_sqlite_closed_while_other_threads_read(tmp_path: Path) -> None:
    # Closing a connection while its thread runs a statement crashed the interpreter (the
    # dashboard's warm-up thread still read when a test closed the store). In a subprocess:
    # a crash must fail this test, not end the test session.
    code = f"""
import threading, time
from stadtpuls.reading import Reading
from stadtpuls.store import StoreUnavailable
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity
store = SQLiteStore({str(tmp_path / "s.db")!r})
store.write([Reading("a", f"s{{i}}", Quantity.CO2, {T0} + k, 1.0)
             for i in range(50) for k in range(2000)])
refused = []
def read():
    while True:
        try:
            store.latest()
            store.counts(0, 2**62)
        except StoreUnavailable as exc:
            refused.append(str(exc))
            return
threads = [threading.Thread(target=read) for _ in range(4)]
for t in threads: t.start()
time.sleep(0.5)
store.close()
for t in threads: t.join(30)
print(len(refused), refused[0])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("4 SQLite store") and "is closed" in done.stdout
