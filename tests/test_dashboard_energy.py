"""Dashboard energy figures: meter and power arithmetic, and energy against the simulator's
ground truth (meter resets, a gap), per local-calendar period; history of that day keeps
its gap.

Pure functions are tested directly; everything that reads goes through a real store (SQLite,
and the session's InfluxDB where marked) filled by the simulators.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from dashboard.data.energy import meter_energy_by_period, power_energy_by_period, site_energy
from dashboard.data.history import history, to_csv
from dashboard.data.performance import performance
from dashboard.data.source import DataSource
from simulators.generate import SiteSimulation
from stadtpuls.catalogue import Catalogue, Role, load_catalogue
from stadtpuls.energy_math import (
    meter_energy,
    meter_increments,
    meter_window_energy,
    power_energy,
)
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.protocol import Aggregate, Store
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S, to_ns
from stadtpuls.units import Quantity
from testkit.devdata import simulate_into
from testkit.servers import InfluxServer

# pvlib 0.16 asks pandas 3 for a deprecated attribute inside get_solarposition
pytestmark = pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated")

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
SITE = "stuehlinger"
# A June day; the faults: a 2-hour outage of one roof array (power and meter), a meter
# replaced mid-morning and the building meter reset at 11:00.
DAY = datetime(2025, 6, 11, tzinfo=BERLIN)
GAP_FROM = DAY + timedelta(hours=10)
GAP = timedelta(hours=2)
FAULTS = (f"silent:pv_roof_south_a_power@{GAP_FROM.isoformat()}/2h,"
          f"silent:pv_roof_south_a_energy@{GAP_FROM.isoformat()}/2h,"
          f"meter_reset:pv_roof_centre_energy@{(DAY + timedelta(hours=9)).isoformat()},"
          f"meter_reset:building_energy@{(DAY + timedelta(hours=11)).isoformat()}")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config" / "stuehlinger.yaml")


# --- energy arithmetic ------------------------------------------------------------------------


def test_meter_increments_count_resets_and_ignore_small_steps_back() -> None:
    assert meter_increments([100.0, 110.0, 110.0, 125.0]) == [10.0, 0.0, 15.0]
    # reset to zero: the value after the drop is the energy since the reset
    assert meter_increments([5000.0, 5010.0, 3.0, 10.0]) == [10.0, 3.0, 7.0]
    # a small step back (rounding, a glitch) is not a reset and adds nothing; the count goes
    # on from the highest value seen
    assert meter_energy([5000.0, 4999.5, 5005.0]) == 5.0


def test_window_energy_equals_pointwise_with_resets_and_gaps() -> None:
    rng = random.Random(3)
    for _ in range(200):
        values, value = [], rng.uniform(1e5, 1e6)
        for _ in range(rng.randrange(20, 200)):
            roll = rng.random()
            if roll < 0.02 and value > 1_000:
                value = rng.uniform(0, 50)  # meter reset
            elif roll < 0.05:
                value -= rng.uniform(0, 0.5)  # rounding glitch: a small step back
            else:
                value += rng.uniform(0, 40)
            values.append(value)
        # random windows of 1..12 readings, at most one reset each
        windows: list[list[float]] = []
        i = 0
        while i < len(values):
            size = rng.randrange(1, 13)
            chunk = values[i:i + size]
            resets = sum(1 for a, b in zip([values[i - 1], *chunk], chunk, strict=False)
                         if b < a * 0.5) if i else 0
            if resets > 1:
                chunk = chunk[:1]
            windows.append(chunk)
            i += len(chunk)
        baseline = windows[0][-1]
        rest = windows[1:]
        per_window = meter_window_energy([min(w) for w in rest], [max(w) for w in rest],
                                         [w[-1] for w in rest], baseline)
        expected = meter_energy([baseline] + [v for w in rest for v in w])
        assert sum(per_window) == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_power_is_never_integrated_across_a_gap() -> None:
    times = [0.0, 60.0, 120.0, 7320.0, 7380.0]  # two hours missing after t=120
    watts = [1000.0] * 5
    # 2 minutes + 1 minute of 1 kW, the 2-hour gap contributes nothing
    assert power_energy(times, watts, 60.0) == pytest.approx(3 * 1000 / 60)
    # one missing reading (2 intervals apart) is bridged, three are not
    assert power_energy([0.0, 120.0], [600.0, 600.0], 60.0) == pytest.approx(20.0)
    assert power_energy([0.0, 240.0], [600.0, 600.0], 60.0) == 0.0


# --- energy against the simulator's ground truth -------------------------------------------


@pytest.fixture(scope="module")
def june_day(catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[Path, list[SiteSimulation]]]:
    path = tmp_path_factory.mktemp("june") / "day.db"
    store = SQLiteStore(path)
    sims = simulate_into(store, catalogue, DAY - timedelta(days=1),
                         DAY + timedelta(days=1, minutes=10), sites=[SITE], faults=FAULTS,
                         chunk=timedelta(days=3))[SITE]
    store.close()
    yield path, sims


def _truth_kwh(sim: SiteSimulation, power: np.ndarray, start: datetime, end: datetime) -> float:
    mask = (sim.times_ns >= to_ns(start)) & (sim.times_ns < to_ns(end))
    return sim.energy_kwh(power[mask])


def _source(store: Store, catalogue: Catalogue, at: datetime) -> DataSource:
    return DataSource.create(store, catalogue, clock=lambda: at.timestamp())


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("influx", marks=pytest.mark.integration)])
def test_energy_today_from_meters_and_power_within_1_percent(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, catalogue: Catalogue,
    june_day: tuple[Path, list[SiteSimulation]],
) -> None:
    path, (sim,) = june_day
    store: Store
    if kind == "sqlite":
        store = SQLiteStore(path)
    else:
        # The same simulation (same seed and faults) written to the real InfluxDB.
        server: InfluxServer = request.getfixturevalue("influx")
        store = InfluxStore(server.url, f"{request.getfixturevalue('influx_db')}/autogen")
        simulate_into(store, catalogue, DAY - timedelta(days=1),
                      DAY + timedelta(days=1, minutes=10), sites=[SITE], faults=FAULTS,
                      chunk=timedelta(days=3))
    # Late evening of the day: "today" is the whole day but for the last minutes.
    at = DAY + timedelta(hours=23, minutes=59, seconds=30)
    source = _source(store, catalogue, at)
    energy = site_energy(source, SITE)
    day_end = DAY + timedelta(days=1)
    by_id = {a.array.id: a for a in energy.arrays}
    for array in catalogue.sites[SITE].pv_arrays:
        truth = _truth_kwh(sim, sim.pv_ac_w[array.id], DAY, day_end)
        result = by_id[array.id]
        assert result.source == "meter"
        assert result.energy.today is not None
        assert result.energy.today / 1000 == pytest.approx(truth, rel=0.01), array.id
    load = sim.load_w
    assert load is not None
    consumption = energy.balances["today"].consumption_wh
    assert consumption is not None
    assert consumption / 1000 == pytest.approx(_truth_kwh(sim, load, DAY, day_end), rel=0.01)
    # Shares from meters: PV used in the building = production − export.
    pv_total = _truth_kwh(sim, sim.pv_total_w, DAY, day_end)
    export = _truth_kwh(sim, np.clip(sim.pv_total_w - load, 0, None), DAY, day_end)
    today = energy.balances["today"]
    assert today.self_consumption == pytest.approx((pv_total - export) / pv_total, abs=0.01)
    assert today.self_sufficiency == pytest.approx(
        (pv_total - export) / _truth_kwh(sim, load, DAY, day_end), abs=0.01)
    assert today.co2_avoided_kg == pytest.approx(
        (today.pv_wh or 0) / 1000 * source.settings.grid_co2_g_per_kwh / 1000)

    # From power: every array within 1 %, except the one with the 2-hour outage, which
    # misses exactly the outage (nothing is invented across the gap).
    power_keys = [(SeriesKey(SITE, s.id, s.quantity), s.interval_s)
                  for s in catalogue.sites[SITE].sensors if s.role is Role.PV_POWER]
    from_power = power_energy_by_period(source, SITE, power_keys)
    for key, _ in power_keys:
        sensor = catalogue.sensor(SITE, key.sensor)
        assert sensor is not None and sensor.array is not None
        array_id = sensor.array
        truth = _truth_kwh(sim, sim.pv_ac_w[array_id], DAY, day_end)
        got = (from_power[key].today or 0) / 1000
        if array_id == "roof_south_a":
            outage = _truth_kwh(sim, sim.pv_ac_w[array_id], GAP_FROM, GAP_FROM + GAP)
            assert outage > 0.1 * truth  # the gap is in the middle of the day
            assert got == pytest.approx(truth - outage, rel=0.01)
        else:
            assert got == pytest.approx(truth, rel=0.01), array_id
    store.close()


def test_energy_yesterday_month_and_year_follow_the_local_calendar(
    catalogue: Catalogue, june_day: tuple[Path, list[SiteSimulation]]
) -> None:
    path, (sim,) = june_day
    store = SQLiteStore(path)
    # Just after midnight: the simulated day is now "yesterday".
    source = _source(store, catalogue, DAY + timedelta(days=1, minutes=5))
    keys = [SeriesKey(SITE, s.id, s.quantity) for s in catalogue.sites[SITE].sensors
            if s.role is Role.PV_ENERGY]
    values = meter_energy_by_period(source, SITE, keys)
    truth = _truth_kwh(sim, sim.pv_total_w, DAY, DAY + timedelta(days=1))
    yesterday = sum(v.yesterday or 0 for v in values.values()) / 1000
    assert yesterday == pytest.approx(truth, rel=0.01)
    month = sum(v.month or 0 for v in values.values()) / 1000
    previous_day = _truth_kwh(sim, sim.pv_total_w, DAY - timedelta(days=1), DAY)
    assert month == pytest.approx(truth + previous_day, rel=0.01)
    assert all(v.year == v.month for v in values.values())
    store.close()


def test_underperforming_array_is_flagged(catalogue: Catalogue, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "perf.db")
    start = DAY - timedelta(days=6)
    simulate_into(store, catalogue, start, DAY + timedelta(days=1), sites=[SITE])
    # Today the south façade array delivers 60 % of what it should (a failed string).
    key = SeriesKey(SITE, "pv_facade_s_power", Quantity.POWER)
    raw = store.aggregate([key], to_ns(DAY), to_ns(DAY + timedelta(days=1)), 60 * NS_PER_S,
                          [Aggregate.MEAN])[key]
    store.write([Reading(SITE, key.sensor, key.quantity, t, v * 0.6)
                 for t, v in zip(raw.times, raw.values[Aggregate.MEAN], strict=True)])
    perf = performance(_source(store, catalogue, DAY + timedelta(hours=23, minutes=59)), SITE)
    flagged = {a.array_id for a in perf.arrays if a.flagged}
    assert flagged == {"facade_s"}
    south = next(a for a in perf.arrays if a.array_id == "facade_s")
    assert south.index is not None and south.index == pytest.approx(0.6, abs=0.05)
    store.close()


def test_history_keeps_gaps_as_gaps_and_exports_csv(catalogue: Catalogue,
                                                    june_day: tuple[Path, list[SiteSimulation]]
                                                    ) -> None:
    path, _ = june_day
    store = SQLiteStore(path)
    at = DAY + timedelta(hours=23)
    source = _source(store, catalogue, at)
    key = SeriesKey(SITE, "pv_roof_south_a_power", Quantity.POWER)
    hist = history(source, key, to_ns(DAY), to_ns(at), 60.0, BERLIN)
    assert hist.window_s == 60
    frame = hist.frame
    gap_rows = frame[frame["mean"].isna()]
    assert len(gap_rows) == 1
    gap_at = gap_rows["time"].iloc[0]
    assert pd.Timestamp(GAP_FROM - timedelta(minutes=2)) <= gap_at <= pd.Timestamp(GAP_FROM + GAP)
    assert frame["time"].iloc[0].tzinfo is not None
    csv = to_csv(hist, "W", decimal=",")
    header, first = csv.splitlines()[:2]
    assert header == "time;mean [W];min [W];max [W]"
    assert first.startswith("2025-06-11T00:00:00+02:00;")
    assert len(csv.splitlines()) == hist.points + 1
    store.close()
