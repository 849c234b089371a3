"""Sensor state snapshots (stadtpuls.state) agree exactly with a raw scan of the store.

Against both stores: readings written shuffled and late, split over two replicas, with
readings outside the windows; and end to end: `stadtpuls ingest` against the real Mosquitto
and InfluxDB, stopped and restarted (the second run goes on from the saved buckets).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from array import array
from pathlib import Path

import pytest
from ingest_procs import Ingest, Publisher, kill_leftovers, stored, wait_for

from ingest.state_keeper import MAX_WAITING, StateKeeper
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.state.current import current_state
from stadtpuls.state.rows import BUCKET_S, StateRow, WindowFigures, merge, window_end_ns
from stadtpuls.state.tracker import StateTracker
from stadtpuls.store import Aggregate, Store, state_codec
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


def test_a_buckets_file_of_the_four_column_format_is_taken_over(tmp_path: Path) -> None:
    """An ingest upgraded from format 1 (session 5 and before) keeps its counts."""
    now = time.time_ns()
    first = StateTracker(_windows)
    first.add([Reading("a", "s0", Quantity.CO2, now - t * NS_PER_S, 400.0 + t % 7)
               for t in range(0, 3600, 60)])
    [expected] = first.rows("c", now)
    first.dump(tmp_path / "state.bin")
    # The same buckets as format 1 wrote them: per series ids (q), counts (l), mins, maxs.
    data = (tmp_path / "state.bin").read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    ring = array("d", data[8 + size:])
    header.update(format=1, count_size=array("l").itemsize)
    columns = b"".join((array("q", map(int, ring[0::4])).tobytes(),
                        array("l", map(int, ring[1::4])).tobytes(),
                        ring[2::4].tobytes(), ring[3::4].tobytes()))
    encoded = json.dumps(header).encode()
    (tmp_path / "old.bin").write_bytes(len(encoded).to_bytes(8, "little") + encoded + columns)
    second = StateTracker(_windows)
    assert second.load(tmp_path / "old.bin") == 1
    assert second.rows("c", now) == [expected]


def test_series_beyond_the_bound_are_not_tracked() -> None:
    tracker = StateTracker(_windows, max_series=2)
    tracker.add([Reading("a", f"s{i}", Quantity.CO2, 10**18, 1.0) for i in range(3)])
    assert len(tracker) == 2 and tracker.untracked == 1


def test_the_keeper_counts_queued_batches_in_order_before_every_snapshot(
        tmp_path: Path) -> None:
    keeper = StateKeeper(StateTracker(_windows), SQLiteStore(tmp_path / "s.db"), "c", tmp_path,
                         interval_s=3600)
    # A live thread that never counts stands in for a counter that is behind: what `stored`
    # queues is counted only by the snapshot, or by `stored` itself once the queue is full.
    idle = threading.Event()
    keeper._thread = threading.Thread(target=idle.wait, daemon=True)
    keeper._thread.start()
    now = time.time_ns()
    batches = [[Reading("a", "s0", Quantity.CO2, now - 60 * NS_PER_S, float(b))]
               for b in range(MAX_WAITING + 3)]  # one series, one time: the last one wins
    try:
        keeper.stored(batches[0])
        assert len(keeper.tracker) == 0
        [row] = _published(keeper, now)
        assert row.completeness is not None and row.completeness.count == 1
        for batch in batches[1:]:
            keeper.stored(batch)
        assert len(keeper._waiting) < MAX_WAITING
        [row] = _published(keeper, now)
        assert row.completeness is not None and row.completeness.count == len(batches)
        assert row.newest is not None and row.newest.value == len(batches) - 1
    finally:
        idle.set()


def _published(keeper: StateKeeper, now: int) -> list[StateRow]:
    keeper.publish(now_ns=now)
    assert isinstance(keeper.store, SQLiteStore)
    return [r for r in keeper.store.read_states(now - NS_PER_S) if r.at_ns == now]


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


def _row_set(rows: list[StateRow]) -> dict[SeriesKey, tuple[int, float | None]]:
    return {r.key: (r.at_ns, None if r.newest is None else r.newest.value) for r in rows}


def test_a_packed_snapshot_splits_parts_that_would_be_too_long() -> None:
    rng = random.Random(3)
    now = time.time_ns()
    # Random 200-character ids barely compress: 500 rows would overflow one string field.
    rows = [StateRow("c0", SeriesKey("site", "".join(rng.choices("abcdef0123456789", k=200)),
                                     Quantity.POWER), now, window_end_ns(now),
                     Reading("site", f"x{i}", Quantity.POWER, now - i, float(i)), None, None)
            for i in range(1_200)]
    lines = state_codec.lines(rows).splitlines()
    parts = [line.split('data="')[1].split('"')[0] for line in lines]
    assert len(parts) > 1_200 // state_codec.PART_ROWS
    assert max(len(p) for p in parts) <= state_codec.PART_MAX_BYTES
    decoded = [r for p in parts for r in state_codec.from_part("c0", p)]
    assert _row_set(decoded) == _row_set(rows)
    assert list(state_codec.from_part("c0", "not base64 at all!")) == []


def test_a_large_snapshot_round_trips_and_a_smaller_newer_one_replaces_it(store: Store) -> None:
    assert isinstance(store, (SQLiteStore, InfluxStore))
    now = time.time_ns()
    site = f"big{uuid.uuid4().hex[:6]}"
    keys = [SeriesKey(site, f"sensor-{i:05d}-{'x' * 80}", Quantity.TEMPERATURE)
            for i in range(1_300)]

    def rows(at: int, count: int, value: float) -> list[StateRow]:
        return [StateRow("c0", k, at, window_end_ns(at),
                         Reading(k.site, k.sensor, k.quantity, at - NS_PER_S, value),
                         WindowFigures(FULL_S, 10), None) for k in keys[:count]]

    store.write_states(rows(now, len(keys), 1.0))
    merged = merge(store.read_states(now - NS_PER_S))
    assert [merged[k].newest.value for k in keys] == [1.0] * len(keys)  # type: ignore[union-attr]
    # A client's newest snapshot is its whole state: a smaller one (a restart that lost its
    # buckets file) replaces the larger, including the packed parts it does not overwrite.
    store.write_states(rows(now + 60 * NS_PER_S, 100, 2.0))
    merged = merge(store.read_states(now - NS_PER_S))
    assert merged.keys() == set(keys[:100])
    assert {s.newest.value for s in merged.values()} == {2.0}  # type: ignore[union-attr]
    assert merge(store.read_states(now + 90 * NS_PER_S)) == {}


def test_the_current_state_is_what_was_written_shortly_before_the_instant(
        tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    at = time.time_ns()
    key = SeriesKey("s", "a", Quantity.CO2)
    store.write_states([StateRow("ingest", key, at, window_end_ns(at),
                                 Reading("s", "a", Quantity.CO2, at - NS_PER_S, 500.0),
                                 WindowFigures(FULL_S, 1_440), None)])
    minute = 60 * NS_PER_S
    assert current_state(store, at)[key].completeness == WindowFigures(FULL_S, 1_440)
    assert key in current_state(store, at - minute)  # the ingest's clock a little ahead
    assert current_state(store, at - 2 * minute) == {}  # the past: the store answers
    assert key in current_state(store, at + 19 * minute)
    assert current_state(store, at + 21 * minute) == {}  # the ingest stopped writing
    assert current_state(object(), at) == {}  # a store without snapshots
    store.close()


@pytest.mark.integration
def test_a_city_dashboard_asks_the_store_only_for_overdue_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dashboard.data import status
    from dashboard.data.source import DataSource
    from stadtpuls.catalogue import load_catalogue

    entry = site_yaml("city", 6)
    for sensor in entry["sensors"]:  # type: ignore[attr-defined]
        sensor["interval_s"] = 60
    catalogue = load_catalogue(write_catalogue(tmp_path / "c.yaml", {"city": entry}))
    store = SQLiteStore(tmp_path / "s.db")
    now = time.time_ns()
    key = [SeriesKey("city", f"s{i}", Quantity.POWER) for i in range(6)]
    # s0..s3 reported 50 s ago (ok), s4 ten minutes ago (silent), s5 never.
    before = [Reading("city", f"s{i}", Quantity.POWER, now - 50 * NS_PER_S, 10.0 + i)
              for i in range(4)]
    before.append(Reading("city", "s4", Quantity.POWER, now - 600 * NS_PER_S, 14.0))
    store.write(before)
    tracker = StateTracker(_windows)
    tracker.add(before)
    store.write_states(tracker.rows("c0", now - 40 * NS_PER_S))
    # After the snapshot: new readings of every sensor.
    store.write([Reading("city", f"s{i}", Quantity.POWER, now - 5 * NS_PER_S, 90.0 + i)
                 for i in range(6)])
    clock = now / NS_PER_S

    def latest() -> dict[SeriesKey, float]:
        source = DataSource.create(store, catalogue, clock=lambda: clock)
        return {k: r.value for k, r in status.latest_readings(source).items()}

    # A building: everything since the snapshot is read.
    assert latest() == {k: 90.0 + i for i, k in enumerate(key)}
    # A city (more series than the bound): s0..s3 are ok from the snapshot and keep its
    # values until the next one; the overdue s4 and the unseen s5 are read from the store.
    monkeypatch.setattr(status, "RAW_AFTER_SNAPSHOT_MAX", 4)
    assert latest() == {**{k: 10.0 + i for i, k in enumerate(key[:4])},
                        key[4]: 94.0, key[5]: 95.0}
    # Seen 400 s later with no newer snapshot, most series are overdue (as in an outage):
    # one query for all again.
    clock = now / NS_PER_S + 400
    assert latest() == {k: 90.0 + i for i, k in enumerate(key)}
    store.close()


def test_windows_before_the_trackers_coverage_are_left_to_the_store(tmp_path: Path) -> None:
    now = time.time_ns()
    readings = [Reading("a", "s0", Quantity.CO2, now - t * NS_PER_S, 400.0)
                for t in range(0, 3 * 3600, 60)]
    # Started an hour ago: the 2-hour stuck window and the day reach back before it.
    tracker = StateTracker(_windows, covered_from_ns=now - 3600 * NS_PER_S)
    tracker.add(readings)
    [row] = tracker.rows("c", now)
    assert row.completeness is None and row.stuck is None and row.newest == readings[0]
    tracker.covered_from_ns = now - FULL_S * NS_PER_S
    [row] = tracker.rows("c", now)
    assert row.completeness is not None and row.stuck is not None
    # Kept across a restart, like the buckets.
    tracker.covered_from_ns = now - 3600 * NS_PER_S
    tracker.dump(tmp_path / "state.bin")
    again = StateTracker(_windows)
    again.load(tmp_path / "state.bin")
    assert again.covered_from_ns == now - 3600 * NS_PER_S


def test_an_ingest_that_finds_readings_it_never_saw_counts_from_its_start(
    tmp_path: Path,
) -> None:
    # The demo writes days of history straight into the store, then starts the ingest: with
    # a day's window counted from its start, every sensor read "incomplete" (1 %).
    from ingest.state_keeper import StateKeeper

    now = time.time_ns()
    empty = SQLiteStore(tmp_path / "empty.db")
    fresh = StateKeeper(StateTracker(_windows), empty, "c", tmp_path, interval_s=0)
    assert fresh.tracker.covered_from_ns == 0
    filled = SQLiteStore(tmp_path / "filled.db")
    filled.write([Reading("a", "s0", Quantity.CO2, now - 3600 * NS_PER_S, 400.0)])
    started = StateKeeper(StateTracker(_windows), filled, "d", tmp_path, interval_s=0)
    assert started.tracker.covered_from_ns >= now
    # The dashboard then counts from the store: complete, not 1 %.
    started.stored([Reading("a", "s0", Quantity.CO2, now, 401.0)])
    started.publish(now_ns=now)
    [row] = filled.read_states(0)
    assert row.completeness is None and row.newest is not None
    empty.close()
    filled.close()
