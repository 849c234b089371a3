"""A simulated year of the Rathaus im Stühlinger against its published figures.

Published: about 558 MWh a year from 660 kWp (220 kWp in the façade, 440 kWp on the roof),
83 % of it used in the building. The year is computed once per seed (15-minute steps, a
second or so each) and shared by the tests of this module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulators.faults import METER_ROLES
from simulators.generate import SiteSimulation, generate
from simulators.summary import SiteYield, site_yield
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.catalogue.models import Role

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"
SEEDS = (0, 1, 2)
PUBLISHED_MWH = 558.0
PUBLISHED_SELF_CONSUMPTION = 0.83
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE)


@pytest.fixture(scope="module")
def years(catalogue: Catalogue) -> dict[int, SiteSimulation]:
    return {
        seed: generate(catalogue, "stuehlinger", START, END, timedelta(minutes=15), seed)
        for seed in SEEDS
    }


@pytest.fixture(scope="module")
def yields(years: dict[int, SiteSimulation]) -> dict[int, SiteYield]:
    return {seed: site_yield(sim) for seed, sim in years.items()}


@pytest.mark.parametrize("seed", SEEDS)
def test_year_yield_is_within_ten_percent_of_the_published_558_mwh(
    yields: dict[int, SiteYield], seed: int
) -> None:
    mwh = yields[seed].pv_kwh / 1000
    assert PUBLISHED_MWH * 0.9 <= mwh <= PUBLISHED_MWH * 1.1, f"seed {seed}: {mwh:.1f} MWh"


@pytest.mark.parametrize("seed", SEEDS)
def test_facade_specific_yield_is_clearly_below_the_roofs(
    yields: dict[int, SiteYield], seed: int
) -> None:
    y = yields[seed]
    assert y.facade_kwh_per_kwp is not None and y.roof_kwh_per_kwp is not None
    assert y.facade_kwh_per_kwp < 0.75 * y.roof_kwh_per_kwp
    # Each orientation on its own: a south fin beats a north-east one.
    by_array = {a.array: a.kwh_per_kwp for a in y.arrays}
    assert by_array["facade_s"] > by_array["facade_e"] > by_array["facade_ne"]


@pytest.mark.parametrize("seed", SEEDS)
def test_self_consumption_is_within_ten_points_of_the_published_83_percent(
    yields: dict[int, SiteYield], seed: int
) -> None:
    share = yields[seed].self_consumption_share
    assert share is not None
    assert abs(share - PUBLISHED_SELF_CONSUMPTION) <= 0.10, f"seed {seed}: {share:.1%}"


def _sun_down(sim: SiteSimulation) -> np.ndarray:
    import pvlib

    site = sim.site
    times = pd.DatetimeIndex(pd.to_datetime(sim.times_ns, unit="ns", utc=True))
    loc = pvlib.location.Location(site.location.lat, site.location.lon,
                                  altitude=site.location.altitude_m)
    zenith = loc.get_solarposition(times)["zenith"].to_numpy()
    down: np.ndarray = zenith >= 90.0
    return down


@pytest.mark.parametrize("seed", SEEDS)
def test_no_array_produces_at_night_or_above_its_inverter_rating(
    years: dict[int, SiteSimulation], seed: int
) -> None:
    sim = years[seed]
    night = _sun_down(sim)
    assert night.mean() > 0.4  # a year has about as many night steps as day steps
    ratings = {inv.id: inv.ac_rating_w for inv in sim.site.inverters}
    for array in sim.site.pv_arrays:
        ac = sim.pv_ac_w[array.id]
        assert (ac >= 0).all(), array.id
        assert (ac[night] == 0).all(), f"{array.id} produces at night"
        assert ac.max() <= ratings[array.inverter], f"{array.id} above its inverter rating"
    # The published readings, too (in W, canonical), at their own times.
    for series in sim.series.values():
        if series.sensor.role is Role.PV_POWER:
            array = next(a for a in sim.site.pv_arrays if a.id == series.sensor.array)
            assert series.values.max() <= ratings[array.inverter]
            assert series.values.min() >= 0


def test_an_undersized_inverter_clips_at_its_rating(catalogue: Catalogue) -> None:
    """The catalogue's inverters are sized above their arrays' real peaks (as planners do), so
    clipping needs a smaller one: 80 kW behind the 150 kWp roof array."""
    site = catalogue.sites["stuehlinger"]
    inverters = [inv.model_copy(update={"ac_rating_w": 80_000.0})
                 if inv.id == "inv_roof_south_a" else inv for inv in site.inverters]
    small = catalogue.model_copy(update={"sites": {
        **catalogue.sites, "stuehlinger": site.model_copy(update={"inverters": inverters})}})
    june = generate(small, "stuehlinger", datetime(2025, 6, 1, tzinfo=UTC),
                    datetime(2025, 7, 1, tzinfo=UTC), timedelta(minutes=15), 0)
    ac = june.pv_ac_w["roof_south_a"]
    assert ac.max() == pytest.approx(80_000.0)
    assert (ac >= 79_999.0).sum() > 20  # many bright June noons sit at the limit
    assert june.pv_ac_w["roof_south_b"].max() > 100_000  # its neighbour is not affected


def test_the_weather_station_sees_the_same_sky_as_the_arrays(
    years: dict[int, SiteSimulation],
) -> None:
    sim = years[0]
    irradiance = sim.series["weather_irradiance"].values
    roof = sim.series["pv_roof_centre_power"].values
    assert np.corrcoef(irradiance, roof)[0, 1] > 0.9


@pytest.mark.parametrize("seed", SEEDS)
def test_cumulative_meters_never_decrease_without_a_reset_fault(
    years: dict[int, SiteSimulation], seed: int
) -> None:
    sim = years[seed]
    meters = [s for s in sim.series.values() if s.sensor.role in METER_ROLES]
    assert len(meters) == 13  # 10 PV arrays, building, grid import, grid export
    for series in meters:
        assert series.values[0] > 0, f"{series.sensor.id} starts at zero"
        assert (np.diff(series.values) >= 0).all(), f"{series.sensor.id} runs backwards"


def test_meters_agree_with_the_power_they_integrate(years: dict[int, SiteSimulation]) -> None:
    sim = years[0]
    for array in sim.site.pv_arrays:
        meter = sim.series[f"pv_{array.id}_energy"].values
        # Meter readings are at 00:00 of the first and at the last step of the year.
        from_power = sim.pv_ac_w[array.id][:-1].sum() * sim.step_s / 3600
        assert meter[-1] - meter[0] == pytest.approx(from_power, abs=len(meter) * 1.0)
    load = sim.load_w
    assert load is not None
    building = sim.series["building_energy"].values
    assert building[-1] - building[0] == pytest.approx(load[:-1].sum() * 0.25, rel=1e-6)


def test_building_follows_office_hours(years: dict[int, SiteSimulation]) -> None:
    sim = years[0]
    load = sim.series["building_power"]
    local = pd.DatetimeIndex(pd.to_datetime(load.times_ns, unit="ns", utc=True)).tz_convert(
        "Europe/Berlin"
    )
    values = load.values
    tuesday_late_morning = values[(local.day_of_week == 1) & (local.hour == 10)].mean()
    sunday_late_morning = values[(local.day_of_week == 6) & (local.hour == 10)].mean()
    tuesday_night = values[(local.day_of_week == 1) & (local.hour == 3)].mean()
    assert tuesday_late_morning > 2 * sunday_late_morning
    assert tuesday_late_morning > 2 * tuesday_night
    # Holidays are run like Sundays: Whit Monday 2025 (9 June) and Christmas Day.
    for day in ("2025-06-09", "2025-12-25"):
        on_day = values[(local.strftime("%Y-%m-%d") == day) & (local.hour == 10)]
        assert on_day.mean() < 0.6 * tuesday_late_morning, day
