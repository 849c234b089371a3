"""Roll-ups on both stores: every tier row equals the aggregate of the raw readings it
summarises, after shuffled, late and duplicate writes and a meter reset; queries answered
from tiers equal raw answers; retention deletes exactly what is too old.

SQLite and the session's real influxd (1.6.7 behind the v2-write route adapter, see
conftest.py) run the same tests; nothing is mocked. The truth is computed here from the
readings as finally written, independently of `stadtpuls.rollup.compute` (power energy by
midpoint sampling of the linear interpolation, meter energy from `meter_increments`).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict

import numpy as np
import pytest

from stadtpuls.energy_math import max_power_gap_s, meter_increments, power_energy
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.rollup.dirty import DirtyMarkingWriter, DirtySeries
from stadtpuls.rollup.planning import plan
from stadtpuls.rollup.retention import RetentionPolicy, apply_retention
from stadtpuls.rollup.tiers import TIERS, RollupRow, Tier, floor_to
from stadtpuls.rollup.worker import Recomputer, RollupWorker, widen_coverage
from stadtpuls.store import Aggregate, RollupStore
from stadtpuls.units import Quantity

pytestmark = pytest.mark.integration

S = 10**9
MIN = 60 * S
HOUR = 60 * MIN
DAY = 24 * HOUR
BASE = 1_750_032_000 * S  # 2025-06-16T00:00:00Z
DAYS = 3
SITE = "rollup"
PV = SeriesKey(SITE, 'pv "roof", east=1', Quantity.POWER)
METER = SeriesKey(SITE, "meter", Quantity.ENERGY)
TEMP = SeriesKey(SITE, "temp", Quantity.TEMPERATURE)
KEYS = (PV, METER, TEMP)
INTERVAL_S = 60.0


def _dataset(rng: random.Random) -> list[Reading]:
    out = []
    meter = 1_000_000.0
    for k in range(DAYS * 24 * 60):
        t = BASE + k * MIN + rng.randrange(0, 20 * S)
        if not (DAY + 5 * HOUR <= t - BASE < DAY + 7 * HOUR):  # a 2-hour outage of the PV
            watts = max(0.0, 8_000 * math.sin(math.pi * (k % 1440) / 1440)) + rng.uniform(0, 50)
            out.append(Reading(SITE, PV.sensor, PV.quantity, t, watts,
                               implausible=rng.random() < 0.01))
        meter = 3.0 if k == 2_000 else meter + rng.uniform(5, 20)  # k = 2000: a reset
        out.append(Reading(SITE, METER.sensor, METER.quantity, t + 7 * S, meter,
                           implausible=rng.random() < 0.005 and k != 2_000))
        out.append(Reading(SITE, TEMP.sensor, TEMP.quantity, t + 3 * S, rng.uniform(-5, 35),
                           implausible=rng.random() < 0.02))
    return out


def _write_like_the_ingest(store: RollupStore) -> dict[tuple[SeriesKey, int], Reading]:
    """Shuffled chunks, a roll-up round, then late readings and duplicates, another round."""
    rng = random.Random(12)
    readings = _dataset(rng)
    rng.shuffle(readings)
    dirty = DirtySeries()
    writer = DirtyMarkingWriter(store, dirty)
    recomputer = Recomputer(store, lambda _: INTERVAL_S, clock=lambda: (BASE + 5 * DAY) / S)
    first, late = readings[: len(readings) * 4 // 5], readings[len(readings) * 4 // 5:]
    for i in range(0, len(first), 997):
        writer.write(first[i:i + 997])
    recomputer.recompute(dirty.take().ranges)
    dupes = [Reading(r.site, r.sensor, r.quantity, r.time_ns,
                     r.value if r.quantity is Quantity.ENERGY else r.value + 1.0,
                     implausible=not r.implausible if r.quantity is Quantity.TEMPERATURE
                     else r.implausible)
             for r in rng.sample(first, 300)]
    for i in range(0, len(late), 501):
        writer.write(late[i:i + 501])
    writer.write(dupes)
    recomputer.recompute(dirty.take().ranges)
    final: dict[tuple[SeriesKey, int], Reading] = {}
    for r in [*first, *late, *dupes]:
        final[(r.key, r.time_ns)] = r
    return final


def _truth(final: dict[tuple[SeriesKey, int], Reading], key: SeriesKey, width: int
           ) -> dict[int, dict[str, float | int | None]]:
    readings = sorted((r for (k, _), r in final.items() if k == key), key=lambda r: r.time_ns)
    windows: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in readings:
        w = windows[floor_to(r.time_ns, width)]
        w["all"].append(r.value)
        if not r.implausible:
            w["ok"].append(r.value)
    plausible = [r for r in readings if not r.implausible]
    energy: dict[int, float] = defaultdict(float)
    if key.quantity is Quantity.ENERGY:
        for r, inc in zip(plausible[1:], meter_increments([r.value for r in plausible]),
                          strict=True):
            energy[floor_to(r.time_ns - 1, width)] += inc
    elif key.quantity is Quantity.POWER:
        energy = _sampled_power_energy(plausible, width)
    out: dict[int, dict[str, float | int | None]] = {}
    for start in sorted(set(windows) | set(energy)):
        ok = windows[start]["ok"]
        out[start] = {"count_all": len(windows[start]["all"]), "count": len(ok),
                      "mean": math.fsum(ok) / len(ok) if ok else None,
                      "min": min(ok) if ok else None, "max": max(ok) if ok else None,
                      "energy": energy.get(start, 0.0) if key.quantity in (
                          Quantity.ENERGY, Quantity.POWER) else None}
    return out


def _sampled_power_energy(plausible: list[Reading], width: int) -> dict[int, float]:
    """Midpoint sampling, one sample a second, of the line through the readings; a sample in
    a step longer than the gap limit counts nothing."""
    t = np.array([r.time_ns for r in plausible], dtype=np.int64)
    p = np.array([r.value for r in plausible])
    grid = np.arange(floor_to(int(t[0]), S) + S // 2, int(t[-1]), S, dtype=np.int64)
    j = np.searchsorted(t, grid)
    ok = (j > 0) & (j < len(t))
    j = np.clip(j, 1, len(t) - 1)
    ok &= (t[j] - t[j - 1]) <= max_power_gap_s(INTERVAL_S) * S
    watts = np.where(ok, np.interp(grid, t, p), 0.0)
    out: dict[int, float] = defaultdict(float)
    starts = grid - grid % width
    for start in np.unique(starts[ok]):
        out[int(start)] = float(watts[starts == start].sum()) / 3_600.0
    return out


def _close(a: float | None, b: float | None, rel: float) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def test_every_tier_row_equals_the_aggregate_of_its_raw_readings(store: RollupStore) -> None:
    final = _write_like_the_ingest(store)
    for tier in TIERS:
        got = store.rollups(tier, list(KEYS)[:1], BASE - DAY, BASE + 5 * DAY)
        for key in KEYS:
            rows: dict[int, RollupRow] = {r.start_ns: r for r in store.rollups(
                tier, [key], BASE - DAY, BASE + 5 * DAY).get(key, [])}
            truth = _truth(final, key, tier.width_ns)
            assert sorted(rows) == sorted(truth), (tier, key)
            for start, want in truth.items():
                row = rows[start]
                where = (tier, key.sensor, start)
                assert row.count_all == want["count_all"], where
                assert row.count == want["count"], where
                assert _close(row.mean, want["mean"], 1e-9), where  # type: ignore[arg-type]
                assert row.minimum == want["min"] and row.maximum == want["max"], where
                if want["energy"] is not None:
                    assert row.energy is not None, where
                    assert math.isclose(row.energy, want["energy"],  # type: ignore[arg-type]
                                        rel_tol=1e-3, abs_tol=0.05), (where, row.energy, want)
                else:
                    assert row.energy is None, where
        assert PV in got
    # Across the outage nothing is integrated, and the reset does not count as a drop:
    plausible_pv = sorted((r for r in final.values() if r.key == PV and not r.implausible),
                          key=lambda r: r.time_ns)
    total = sum(r.energy or 0.0 for r in store.rollups(Tier.D1, [PV], BASE, BASE + DAYS * DAY)[PV])
    reference = power_energy([r.time_ns / S for r in plausible_pv],
                             [r.value for r in plausible_pv], INTERVAL_S)
    assert math.isclose(total, reference, rel_tol=1e-3)
    meter = sorted((r for r in final.values() if r.key == METER and not r.implausible),
                   key=lambda r: r.time_ns)
    counted = sum(r.energy or 0.0 for r in store.rollups(Tier.D1, [METER], BASE,
                                                         BASE + DAYS * DAY)[METER])
    assert math.isclose(counted, sum(meter_increments([r.value for r in meter])), rel_tol=1e-3)


def test_queries_read_tiers_once_covered_and_answer_as_raw_data_would(
        store: RollupStore) -> None:
    final = _write_like_the_ingest(store)
    aggs = [Aggregate.MEAN, Aggregate.MIN, Aggregate.MAX, Aggregate.COUNT, Aggregate.LAST]
    cases = [  # (start, end, window, offset): ragged ends, UTC hours, local (CEST) days
        (BASE + 7 * MIN + 3 * S, BASE + DAYS * DAY - 5 * MIN, HOUR, 0),
        (BASE - DAY, BASE + DAYS * DAY, DAY, -2 * HOUR),
        (BASE + 11 * MIN, BASE + 2 * DAY + 1, 15 * MIN, 0),
    ]
    before = {c: store.aggregate(KEYS, *c[:3], aggs, offset_ns=c[3], exclude_implausible=True)
              for c in cases}
    assert all(plan(c[0], c[1], c[2], c[3], aggs, True, store.coverage()) is None
               for c in cases), "no tier may answer before it is known to be complete"
    energy_case = (BASE - DAY, BASE + DAYS * DAY + HOUR, DAY, -2 * HOUR)
    energy_before = store.aggregate([PV, METER], *energy_case[:3], [Aggregate.ENERGY],
                                    offset_ns=energy_case[3])
    widen_coverage(store, BASE - DAY)
    energy_after = store.aggregate([PV, METER], *energy_case[:3], [Aggregate.ENERGY],
                                   offset_ns=energy_case[3])
    assert plan(*energy_case, [Aggregate.COUNT], True, store.coverage()) is not None
    for key in (PV, METER):
        assert energy_after[key].times == energy_before[key].times
        for x, y in zip(energy_after[key].values[Aggregate.ENERGY],
                        energy_before[key].values[Aggregate.ENERGY], strict=True):
            assert math.isclose(x, y, rel_tol=1e-3, abs_tol=0.05), key
    meter = sorted((r for r in final.values() if r.key == METER and not r.implausible),
                   key=lambda r: r.time_ns)
    assert math.isclose(sum(energy_after[METER].values[Aggregate.ENERGY]),
                        sum(meter_increments([r.value for r in meter])), rel_tol=1e-3)
    for c in cases:
        start, end, window, offset = c
        assert plan(start, end, window, offset, aggs, True, store.coverage()) is not None
        got = store.aggregate(KEYS, start, end, window, aggs, offset_ns=offset,
                              exclude_implausible=True)
        assert got.keys() == before[c].keys()
        for key, ws in got.items():
            raw = before[c][key]
            assert ws.times == raw.times, (c, key)
            expected = _windows(final, key, start, end, window, offset)
            assert ws.times == sorted(expected)
            for i, t in enumerate(ws.times):
                values = expected[t]
                assert ws.values[Aggregate.COUNT][i] == len(values)
                assert ws.values[Aggregate.MIN][i] == min(v for _, v in values)
                assert ws.values[Aggregate.MAX][i] == max(v for _, v in values)
                assert ws.values[Aggregate.LAST][i] == max(values)[1]
                assert _close(ws.values[Aggregate.MEAN][i],
                              math.fsum(v for _, v in values) / len(values), 1e-9)
    # A total over a range (one window) counts implausible readings too, from the tier.
    span = (BASE + 5 * MIN, BASE + DAYS * DAY - 7 * MIN)
    total = store.aggregate([TEMP], *span, span[1] - span[0], [Aggregate.COUNT],
                            offset_ns=span[0])
    assert total[TEMP].values[Aggregate.COUNT] == [
        sum(1 for (k, t) in final if k == TEMP and span[0] <= t < span[1])]


def _windows(final: dict[tuple[SeriesKey, int], Reading], key: SeriesKey, start: int,
             end: int, window: int, offset: int) -> dict[int, list[tuple[int, float]]]:
    out: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (k, t), r in final.items():
        if k == key and start <= t < end and not r.implausible:
            out[t - (t - offset) % window].append((t, r.value))
    return out


def test_retention_removes_exactly_what_is_too_old(store: RollupStore) -> None:
    now = BASE + 400 * DAY
    readings = [Reading(SITE, f"s{i}", Quantity.TEMPERATURE, BASE + k * 6 * HOUR + i * S,
                        float(k)) for i in range(2) for k in range(1_600)]
    store.write(readings)
    Recomputer(store, clock=lambda: now / S).recompute(
        {r.key: (BASE, BASE + 1_600 * 6 * HOUR) for r in readings})
    policy = RetentionPolicy({None: 90 * 86_400, Tier.M15: 120 * 86_400,
                              Tier.H1: 200 * 86_400, Tier.D1: None})
    keys = sorted({r.key for r in readings})
    far = (BASE - DAY, BASE + 500 * DAY)

    def state() -> dict[str, list[int]]:
        points = store.points(keys, *far).values()
        out = {"raw": sorted(t for series in points for t, _, _ in series)}
        for tier in TIERS:
            out[tier.value] = sorted(r.start_ns for rows in store.rollups(tier, keys, *far)
                                     .values() for r in rows)
        return out

    full = state()
    cut = {"raw": now - 90 * DAY, "15m": floor_to(now - 120 * DAY, 15 * MIN),
           "1h": floor_to(now - 200 * DAY, HOUR)}
    planned = apply_retention(store, policy, now, dry_run=True)
    assert state() == full, "a dry run deletes nothing"
    assert {name: n for name, (_, n) in planned.items()} == {
        name: sum(1 for t in times if t < cut.get(name, -2**62)) for name, times in full.items()
        if name != "1d"}
    apply_retention(store, policy, now)
    after = state()
    for name, times in full.items():
        assert after[name] == [t for t in times if t >= cut.get(name, -2**62)], name
    assert after["1d"] == full["1d"] and len(after["1d"]) > 300, "daily rows are kept forever"


def test_worker_rounds_build_each_window_once_it_closed_and_all_at_stop(
        store: RollupStore) -> None:
    """Nobody reads a window's row before it closed: rounds leave open windows for later
    (each tier its own), and the last round at stop writes them as they are."""
    now = [BASE + 10 * MIN]
    dirty = DirtySeries()
    writer = DirtyMarkingWriter(store, dirty)
    worker = RollupWorker(Recomputer(store, lambda _: INTERVAL_S, clock=lambda: now[0] / S),
                          dirty, retention=False)

    def counts(tier: Tier) -> dict[int, int]:
        found = store.rollups(tier, [TEMP], BASE, BASE + DAY)
        return {(row.start_ns - BASE) // MIN: row.count for row in found.get(TEMP, [])}

    writer.write([Reading(SITE, TEMP.sensor, TEMP.quantity, BASE + m * MIN, 20.0 + m)
                  for m in range(10)])
    worker.round()  # 00:10: the first quarter hour is open
    assert all(counts(tier) == {} for tier in TIERS)
    now[0] = BASE + 16 * MIN
    writer.write([Reading(SITE, TEMP.sensor, TEMP.quantity, BASE + 15 * MIN + 30 * S, 40.0)])
    worker.round()  # 00:16: the first quarter closed, the second and the hour open
    assert counts(Tier.M15) == {0: 10}
    assert counts(Tier.H1) == counts(Tier.D1) == {}
    now[0] = BASE + HOUR + MIN
    worker.round()  # 01:01: nothing new, but the second quarter and the hour closed
    assert counts(Tier.M15) == {0: 10, 15: 1}
    assert counts(Tier.H1) == {0: 11}
    assert counts(Tier.D1) == {}
    [hour] = store.rollups(Tier.H1, [TEMP], BASE, BASE + HOUR)[TEMP]
    assert hour.mean == pytest.approx((sum(20.0 + m for m in range(10)) + 40.0) / 11, rel=1e-9)
    late = Reading(SITE, TEMP.sensor, TEMP.quantity, BASE + 20 * MIN, 10.0)
    writer.write([late])  # a late reading in a closed window: rebuilt in the next round
    worker.round()
    assert counts(Tier.M15) == {0: 10, 15: 2}
    assert counts(Tier.H1) == {0: 12}
    assert counts(Tier.D1) == {}
    worker.round(final=True)  # the ingest stops: the open day is written as it is
    assert counts(Tier.D1) == {0: 12}
