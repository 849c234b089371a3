"""Sensor health: the one derivation the dashboard shows and the alert evaluator acts on.

Pure functions over what the store keeps cheaply: the newest reading, and one MIN / MAX /
COUNT aggregate per series over a window. Thresholds (age = now − newest reading,
I = the sensor's `interval_s`, G = min(5 s, 0.1·I), a grace for transport and batching):

- ok:          age ≤ 1.25·I + G
- late:        1.25·I + G < age ≤ 1.6·I + G   (the next reading is overdue)
- silent:      age > 1.6·I + G, or no reading at all
- stuck:       over the stuck window (default the longer of 2 h and 12·I) at least half the
               expected readings arrived and max − min ≤ the quantity's epsilon; not stuck when
               a sun-driven sensor (PV power, PV energy, irradiance) is flat while the sun is
               below the horizon (power and irradiance must also be near zero then)
- implausible: the newest reading is marked implausible
- incomplete:  fewer than `completeness_min` of the expected readings over the completeness
               window (default 80 % of 24 h)
- low battery: the device's newest battery reading is below `battery_min` (default 20 %)

One sensor shows one status, the first that holds in `SEVERITY` order; the alert evaluator
checks each condition on its own (a stuck sensor can also have a low battery).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stadtpuls.catalogue.models import Role, Sensor
from stadtpuls.units import Quantity

LATE_FACTOR = 1.25
SILENT_FACTOR = 1.6
GRACE_MAX_S = 5.0
GRACE_FRACTION = 0.1
STUCK_MIN_WINDOW_S = 7_200.0
STUCK_MIN_INTERVALS = 12
STUCK_MIN_SHARE = 0.5
"""A stuck verdict needs at least this share of the expected readings in the window (and at
least three): two equal readings in a mostly silent window say nothing."""
NIGHT_ZERO_SHARE = 0.01
"""Sun-driven power or irradiance counts as "near zero" up to this share of its plausible
maximum (inverter standby draw, sensor offset)."""

SOLAR_ROLES = frozenset({Role.PV_POWER, Role.PV_ENERGY, Role.IRRADIANCE})

# Variation below which a series counts as unchanged, in the canonical unit. Chosen below the
# resolution of common sensors, so a healthy sensor's noise always exceeds it; the catalogue's
# stuck rules can set another per quantity, site or sensor.
DEFAULT_STUCK_EPSILON: dict[Quantity, float] = {
    Quantity.TEMPERATURE: 0.01,
    Quantity.HUMIDITY: 0.05,
    Quantity.CO2: 0.5,
    Quantity.NOISE: 0.05,
    Quantity.PM2_5: 0.05,
    Quantity.PM10: 0.05,
    Quantity.NO2: 0.05,
    Quantity.PRESSURE: 0.01,
}


STUCK_OFF_BY_DEFAULT = frozenset({Quantity.ENERGY, Quantity.COUNT})
"""Meters and counters are flat whenever nothing flows or passes (export meters at night,
import meters on sunny days, bike counters at 3 a.m.); stuck is checked on them only when a
catalogue rule switches it on."""


class Health(StrEnum):
    OK = "ok"
    LATE = "late"
    SILENT = "silent"
    STUCK = "stuck"
    IMPLAUSIBLE = "implausible"
    INCOMPLETE = "incomplete"
    LOW_BATTERY = "low_battery"
    UNREGISTERED = "unregistered"


# Worst first: a sensor (or a map marker standing for several) shows the first that holds.
SEVERITY = [Health.SILENT, Health.LATE, Health.STUCK, Health.IMPLAUSIBLE, Health.INCOMPLETE,
            Health.LOW_BATTERY, Health.UNREGISTERED, Health.OK]


@dataclass(frozen=True)
class HealthLimits:
    """Per-sensor limits; the catalogue's alert rules fill them (`AlertConfig.limits_for`)."""

    stuck_window_s: float | None = None
    """None: the longer of 2 h and 12 intervals."""
    stuck_epsilon: float | None = None
    """None: `DEFAULT_STUCK_EPSILON` of the quantity, else 0 (exactly unchanged)."""
    stuck_enabled: bool | None = None
    """None: on, except for `STUCK_OFF_BY_DEFAULT` quantities."""
    completeness_window_s: float = 86_400.0
    completeness_min: float = 0.8
    completeness_enabled: bool = True
    battery_min: float = 20.0
    battery_enabled: bool = True


@dataclass(frozen=True)
class WindowStats:
    """MIN, MAX and COUNT of one series over a window (one store aggregate)."""

    count: int
    min: float
    max: float


def grace_s(interval_s: float) -> float:
    return min(GRACE_MAX_S, GRACE_FRACTION * interval_s)


def silent_after_s(interval_s: float) -> float:
    """The newest reading's age beyond which a sensor is SILENT."""
    return SILENT_FACTOR * interval_s + grace_s(interval_s)


def freshness(age_s: float | None, interval_s: float) -> Health:
    """OK, LATE or SILENT from the newest reading's age (None: never seen)."""
    if age_s is None:
        return Health.SILENT
    grace = grace_s(interval_s)
    if age_s > silent_after_s(interval_s):
        return Health.SILENT
    if age_s > LATE_FACTOR * interval_s + grace:
        return Health.LATE
    return Health.OK


def stuck_window_s(sensor: Sensor, limits: HealthLimits) -> float:
    if limits.stuck_window_s is not None:
        return limits.stuck_window_s
    return max(STUCK_MIN_WINDOW_S, STUCK_MIN_INTERVALS * sensor.interval_s)


def stuck_checked(sensor: Sensor, limits: HealthLimits) -> bool:
    if limits.stuck_enabled is not None:
        return limits.stuck_enabled
    return sensor.quantity not in STUCK_OFF_BY_DEFAULT


def stuck_epsilon(sensor: Sensor, limits: HealthLimits) -> float:
    if limits.stuck_epsilon is not None:
        return limits.stuck_epsilon
    return DEFAULT_STUCK_EPSILON.get(sensor.quantity, 0.0)


def is_stuck(sensor: Sensor, stats: WindowStats | None, limits: HealthLimits,
             sun_down: bool) -> bool:
    """Flat over the stuck window, with enough readings to say so, and not a PV night."""
    if not stuck_checked(sensor, limits) or stats is None:
        return False
    expected = stuck_window_s(sensor, limits) / sensor.interval_s
    if stats.count < max(3.0, STUCK_MIN_SHARE * expected):
        return False
    if stats.max - stats.min > stuck_epsilon(sensor, limits):
        return False
    return not (sun_down and night_flat_is_normal(sensor, stats))


def night_flat_is_normal(sensor: Sensor, stats: WindowStats) -> bool:
    """A sun-driven sensor may be flat at night: a meter keeps its count, power sits at 0."""
    if sensor.role not in SOLAR_ROLES:
        return False
    if sensor.role is Role.PV_ENERGY:
        return True
    near_zero = NIGHT_ZERO_SHARE * max(abs(sensor.plausible.max), 1.0)
    return max(abs(stats.min), abs(stats.max)) <= near_zero


def completeness(count: int, window_s: float, interval_s: float) -> float:
    """Readings received over readings expected in the window (may exceed 1)."""
    return count / (window_s / interval_s)


def is_incomplete(value: float | None, limits: HealthLimits) -> bool:
    return limits.completeness_enabled and value is not None and value < limits.completeness_min


def is_low_battery(battery: float | None, limits: HealthLimits) -> bool:
    return limits.battery_enabled and battery is not None and battery < limits.battery_min


def assess(
    sensor: Sensor,
    *,
    age_s: float | None,
    implausible: bool,
    stats: WindowStats | None,
    completeness_value: float | None,
    battery: float | None,
    sun_down: bool,
    limits: HealthLimits,
) -> Health:
    """The one status a catalogued sensor shows: the worst condition that holds."""
    fresh = freshness(age_s, sensor.interval_s)
    if fresh is not Health.OK:
        return fresh
    if is_stuck(sensor, stats, limits, sun_down):
        return Health.STUCK
    if implausible:
        return Health.IMPLAUSIBLE
    if is_incomplete(completeness_value, limits):
        return Health.INCOMPLETE
    if is_low_battery(battery, limits):
        return Health.LOW_BATTERY
    return Health.OK
