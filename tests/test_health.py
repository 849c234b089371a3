"""Sensor health (stadtpuls/health.py): stuck, PV at night, completeness, low battery.

The pure rules first, then the same derivation fed from a real SQLite store with the
simulators' faults, as the dashboard shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.data.source import DataSource
from dashboard.data.status import Status, sensor_states
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.catalogue.models import Sensor
from stadtpuls.health import (
    Health,
    HealthLimits,
    WindowStats,
    assess,
    completeness,
    is_low_battery,
    is_stuck,
)
from stadtpuls.reading import Reading
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.sun import sun_down
from stadtpuls.timebase import NS_PER_S, to_ns
from stadtpuls.units import Quantity
from testkit.devdata import simulate_into

SITE = "stuehlinger"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue("config/stuehlinger.yaml")


def _sensor(catalogue: Catalogue, sensor_id: str) -> Sensor:
    found = catalogue.sensor(SITE, sensor_id)
    assert found is not None
    return found


def _assess(sensor: Sensor, stats: WindowStats | None, *, sun_down: bool = False,
            complete: float | None = 1.0, battery: float | None = None) -> Health:
    return assess(sensor, age_s=1.0, implausible=False, stats=stats,
                  completeness_value=complete, battery=battery, sun_down=sun_down,
                  limits=HealthLimits())


def test_stuck_needs_a_flat_window_with_enough_readings(catalogue: Catalogue) -> None:
    co2 = _sensor(catalogue, "room_sitzungssaal_co2")
    expected = 7_200 / co2.interval_s
    assert _assess(co2, WindowStats(int(expected), 612.0, 612.0)) is Health.STUCK
    # below the quantity's epsilon (0.5 ppm) still counts as unchanged
    assert _assess(co2, WindowStats(int(expected), 612.0, 612.4)) is Health.STUCK
    assert _assess(co2, WindowStats(int(expected), 612.0, 613.0)) is Health.OK
    # two equal readings in a mostly empty window say nothing
    assert _assess(co2, WindowStats(2, 612.0, 612.0)) is Health.OK
    assert not is_stuck(co2, WindowStats(int(expected), 1.0, 1.0),
                        HealthLimits(stuck_enabled=False), False)


def test_pv_at_night_is_not_stuck_but_a_flat_day_or_a_lit_night_is(catalogue: Catalogue) -> None:
    power = _sensor(catalogue, "pv_facade_s_power")
    meter = _sensor(catalogue, "pv_facade_s_energy")
    flat_zero = WindowStats(500, 0.0, 0.0)
    assert _assess(power, flat_zero, sun_down=True) is Health.OK
    assert _assess(power, flat_zero, sun_down=False) is Health.STUCK
    # a value stuck at 5 kW is stuck at night too
    assert _assess(power, WindowStats(500, 5_000.0, 5_000.0), sun_down=True) is Health.STUCK
    # meters (energy) are not checked for stuck unless a rule says so
    assert _assess(meter, WindowStats(500, 1e6, 1e6), sun_down=False) is Health.OK
    assert is_stuck(meter, WindowStats(500, 1e6, 1e6), HealthLimits(stuck_enabled=True), False)
    assert not is_stuck(meter, WindowStats(500, 1e6, 1e6), HealthLimits(stuck_enabled=True),
                        True)


def test_sun_position_for_freiburg() -> None:
    lat, lon = 47.99, 7.84
    assert sun_down(lat, lon, 280.0, to_ns(datetime(2025, 6, 21, 0, 0, tzinfo=UTC)))
    assert not sun_down(lat, lon, 280.0, to_ns(datetime(2025, 6, 21, 11, 0, tzinfo=UTC)))
    assert sun_down(lat, lon, 280.0, to_ns(datetime(2025, 12, 21, 16, 45, tzinfo=UTC)))


def test_completeness_and_battery(catalogue: Catalogue) -> None:
    co2 = _sensor(catalogue, "room_sitzungssaal_co2")
    per_day = 86_400 / co2.interval_s
    assert completeness(int(per_day * 0.5), 86_400, co2.interval_s) == pytest.approx(0.5)
    assert _assess(co2, None, complete=0.79) is Health.INCOMPLETE
    assert _assess(co2, None, complete=0.81) is Health.OK
    assert _assess(co2, None, battery=12.0) is Health.LOW_BATTERY
    assert not is_low_battery(12.0, HealthLimits(battery_min=10.0))
    # the worse condition shows: stuck before incomplete before low battery
    flat = WindowStats(int(7_200 / co2.interval_s), 600.0, 600.0)
    assert _assess(co2, flat, complete=0.5, battery=5.0) is Health.STUCK


def test_dashboard_shows_stuck_and_low_battery_from_the_store(catalogue: Catalogue,
                                                              tmp_path: Path) -> None:
    """The simulator's stuck CO₂ sensor shows as stuck; PV at night does not; TTN battery."""
    store = SQLiteStore(tmp_path / "health.db")
    end = datetime(2025, 6, 12, 1, 0, tzinfo=UTC)  # 03:00 in Freiburg: dark
    simulate_into(store, catalogue, end - timedelta(hours=26), end,
                  faults=f"stuck:room_sitzungssaal_co2@{(end - timedelta(hours=3)).isoformat()}")
    device = "aq-schwarzwaldstrasse"
    store.write([Reading("freiburg", device, Quantity.BATTERY, to_ns(end) - 60 * NS_PER_S, 9.0)])
    source = DataSource.create(store, catalogue, clock=lambda: end.timestamp())
    states = {s.sensor_id: s for s in sensor_states(source)}
    assert states["room_sitzungssaal_co2"].status is Status.STUCK
    assert states["room_buergerservice_co2"].status is Status.OK
    pv = [s for s in states.values() if s.sensor is not None and s.sensor.role is not None
          and s.sensor.role.value.startswith("pv_")]
    assert pv and all(s.status is Status.OK for s in pv), [(s.sensor_id, s.status) for s in pv]
    assert states["air_schwarzwald_pm2_5"].battery == 9.0
    assert states["air_schwarzwald_pm2_5"].status is Status.LOW_BATTERY
    store.close()
