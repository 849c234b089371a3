"""Sensor state snapshots (stadtpuls.state) agree exactly with a raw scan of the store.

Against both stores: readings written shuffled and late, split over two replicas, with
readings outside the windows; and end to end: `stadtpuls ingest` against the real Mosquitto
and InfluxDB, stopped and restarted (the second run goes on from the saved buckets).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_procs import Ingest, Publisher, kill_leftovers, stored, wait_for

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.state.rows import BUCKET_S, merge, window_end_ns
from stadtpuls.state.tracker import StateTracker
from stadtpuls.store import Aggregate, Store
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity
from testkit.loadgen import json_payload, json_topic, site_yaml, write_catalogue
from testkit.servers import InfluxServer, MosquittoServer

FULL_S = 86_400
STUCK_S = 7_200


def _windows(_key: SeriesKey) -> tuple[float | None, float | None]:
    return FULL_S, STUCK_S


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s: Store = SQLiteStore(tmp_path / "store.db")
    else:
        influx: InfluxServer = request.getfixturevalue("influx")
        db: str = request.getfixturevalue("influx_db")
        s = InfluxStore(influx.url, f"{db}/autogen", timeout_s=30)
    yield s
    s.close()


def _raw(store: Store, keys: list[SeriesKey], end: int) -> dict[SeriesKey, tuple[int, ...]]:
    """(completeness count, stuck count) and the stuck min/max as a raw scan sees them."""
    full = store.counts(end - FULL_S * NS_PER_S, end)
    stuck = store.aggregate(keys, end - STUCK_S * NS_PER_S, end, STUCK_S * NS_PER_S,
                            (Aggregate.COUNT, Aggregate.MIN, Aggregate.MAX),
                            offset_ns=(end - STUCK_S * NS_PER_S) % (STUCK_S * NS_PER_S))
    out: dict[SeriesKey, tuple[int, ...]] = {}
    for k in keys:
        s = stuck.get(k)
        out[k] = (full.get(k, 0),
                  *((int(s.values[Aggregate.COUNT][0]), s.values[Aggregate.MIN][0],
                     s.values[Aggregate.MAX][0]) if s else (0,)))
    return out


def _snapshot(store: Store, keys: list[SeriesKey], since: int) -> dict[SeriesKey, tuple[int, ...]]:
    assert isinstance(store, (SQLiteStore, InfluxStore))
    merged = merge(store.read_states(since))
    out: dict[SeriesKey, tuple[int, ...]] = {}
    for k in keys:
        s = merged[k]
        assert s.completeness is not None and s.stuck is not None
        out[k] = (s.completeness.count,
                  *((s.stuck.count, s.stuck.min, s.stuck.max) if s.stuck.count else (0,)))
    return out


def test_snapshots_of_two_replicas_equal_a_raw_scan_after_shuffled_and_late_writes(
    store: Store,
) -> None:
    rng = random.Random(12)
    now = time.time_ns()
    site = f"st{uuid.uuid4().hex[:8]}"
    keys = [SeriesKey(site, f"s{i}", Quantity.TEMPERATURE) for i in range(4)]
    # 27 h of readings about a minute apart (some windows start or end mid-bucket), plus a
    # few dated up to 4 minutes ahead, as the ingest allows.
    readings = [Reading(k.site, k.sensor, k.quantity, now - t * NS_PER_S, rng.uniform(-5, 30))
                for k in keys for t in range(-240, 27 * 3600, 57)]
    rng.shuffle(readings)
    late = readings[: len(readings) // 5]
    early = readings[len(readings) // 5:]
    replicas = [StateTracker(_windows), StateTracker(_windows)]
    for start in range(0, len(early), 997):
        chunk = early[start:start + 997]
        store.write(chunk)
        replicas[start % 2].add(chunk)
    for i, tracker in enumerate(replicas):  # a first snapshot, then the late readings
        store.write_states(tracker.rows(f"c{i}", now))  # type: ignore[attr-defined]
    for start in range(0, len(late), 501):
        chunk = late[start:start + 501]
        store.write(chunk)
        replicas[(start // 501) % 2].add(chunk)
    at = now + 60 * NS_PER_S
    for i, tracker in enumerate(replicas):
        store.write_states(tracker.rows(f"c{i}", at))  # type: ignore[attr-defined]
    end = window_end_ns(at)
    assert end % (BUCKET_S * NS_PER_S) == 0
    raw = _raw(store, keys, end)
    assert all(r[0] > 1_000 and r[1] > 100 for r in raw.values())
    assert _snapshot(store, keys, now) == raw


def test_a_reloaded_tracker_goes_on_counting(tmp_path: Path) -> None:
    now = time.time_ns()
    key = SeriesKey("a", "s0", Quantity.CO2)
    first = StateTracker(_windows)
    first.add([Reading("a", "s0", Quantity.CO2, now - t * NS_PER_S, 400.0 + t % 7)
               for t in range(0, 3600, 60)])
    first.dump(tmp_path / "state.bin")
    second = StateTracker(_windows)
    assert second.load(tmp_path / "state.bin") == 1
    second.add([Reading("a", "s0", Quantity.CO2, now - t * NS_PER_S, 390.0)
                for t in range(30, 3600, 60)])
    [row] = second.rows("c", now)
    assert row.key == key and row.completeness is not None and row.stuck is not None
    assert row.completeness.count == 120
    assert (row.stuck.min, row.stuck.max) == (390.0, 406.0)
    assert row.newest is not None and row.newest.time_ns == now


def test_series_beyond_the_bound_are_not_tracked() -> None:
    tracker = StateTracker(_windows, max_series=2)
    tracker.add([Reading("a", f"s{i}", Quantity.CO2, 10**18, 1.0) for i in range(3)])
    assert len(tracker) == 2 and tracker.untracked == 1


@pytest.mark.integration
def test_ingest_snapshot_equals_raw_scan_across_a_restart(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, influx_db: str,
) -> None:
    site = f"st{uuid.uuid4().hex[:8]}"
    catalogue = write_catalogue(tmp_path / "catalogue.yaml", {site: site_yaml(site, 5)})
    store = InfluxStore(influx.url, f"{influx_db}/autogen", timeout_s=30)
    now_ms = time.time_ns() // 1_000_000
    rng = random.Random(5)
    # 26 h back, shuffled: some readings fall outside the completeness window.
    times = rng.sample(range(now_ms - 26 * 3_600_000, now_ms - 1000, 1000), 6_000)
    messages = [(json_topic(site, i % 5), json_payload(rng.uniform(0, 9), t))
                for i, t in enumerate(times)]
    try:
        ingest = Ingest(tmp_path, mosquitto.url, influx.url, f"{influx_db}/autogen", catalogue,
                        f"stadtpuls/{site}/#", "ingest-state")
        pub = Publisher(mosquitto, messages[:3_500])
        pub.start()
        pub.finish()
        wait_for(lambda: stored(store, site) >= 3_500, 60, "the first readings")
        assert ingest.terminate() == 0
        assert (tmp_path / "data" / "state-ingest-state.bin").exists()
        ingest.start()
        pub = Publisher(mosquitto, messages[3_500:])
        pub.start()
        pub.finish()
        wait_for(lambda: stored(store, site) >= 6_000, 60, "all readings")
        assert ingest.terminate() == 0
        keys = [SeriesKey(site, f"s{i}", Quantity.POWER) for i in range(5)]
        rows = store.read_states(0)
        end = max(r.end_ns for r in rows)
        raw = _raw(store, keys, end)
        assert sum(r[0] for r in raw.values()) < 6_000  # some are older than the window
        assert _snapshot(store, keys, 0) == raw
    finally:
        kill_leftovers()
        store.close()
