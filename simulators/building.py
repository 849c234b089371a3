"""An office building's electricity: occupancy, load profile, grid exchange and meters.

The model is an administration building like the Rathaus im Stühlinger: a base load that
never sleeps (the city's server rooms, ventilation at night, pumps, lifts, fridges), plus on
working days ventilation and office equipment for the staff present, a canteen at lunch,
lighting that falls as daylight rises, and groundwater heat pumps (heating below about
14 °C outside, cooling above about 20 °C). Weekends and the public holidays of
Baden-Württemberg run on base load and heat pumps only.

Numbers scale with the catalogue's `staff`. With 840 staff the building uses about
1.6 GWh a year, and per-step min(PV, load) keeps about 83 % of the Stühlinger PV in the
building, the share the city publishes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.calendar import Clock, FloatArray
from simulators.noise import Streams
from simulators.sky import Sky
from stadtpuls.catalogue.models import Site

_HOUR = 3_600
_DAY = 86_400


@dataclass(frozen=True)
class LoadModel:
    """Parameters of the office load; per-staff figures in kW per person on the payroll."""

    base_kw: float = 22.0
    base_kw_per_staff: float = 0.08
    ventilation_kw_per_staff: float = 0.07
    equipment_kw_per_person: float = 0.26
    lighting_kw_per_person: float = 0.06
    canteen_kw_per_staff: float = 0.05
    heating_kw_per_k_per_staff: float = 0.009
    heating_balance_c: float = 14.0
    cooling_kw_per_k_per_staff: float = 0.011
    cooling_balance_c: float = 20.0


def occupancy(clock: Clock, streams: Streams, key: str) -> FloatArray:
    """Fraction of the staff in the building (0..1) at each time.

    Arrival centres on 07:55, departure on 16:40 (Fridays 14:50), with a lunch dip. On a
    typical day about 62 % of the staff come in (part-time, leave, home office), fewer in
    the school summer holidays and between Christmas and New Year.
    """
    h = clock.local_hour
    friday = clock.weekday == 4
    leave_at = np.where(friday, 14.8, 16.7)
    present = ndtr((h - 7.9) / 0.75) * (1.0 - ndtr((h - leave_at) / 1.0))
    lunch = 1.0 - 0.22 * np.exp(-(((h - 12.6) / 0.55) ** 2))
    doy = clock.day_of_year
    summer_holidays = 0.17 * np.exp(-(((doy - 222.0) / 18.0) ** 2))
    between_years = np.where((doy > 359.0) | (doy < 5.0), 0.3, 0.0)
    # Some days are busier than others (meetings, sickness waves): one draw per local day.
    daily = 0.05 * streams.white(f"{key}:presence:day", clock.local_day, 1)
    share = np.clip(0.62 - summer_holidays - between_years + daily, 0.05, 0.95)
    result: FloatArray = np.where(clock.workday, share * present * lunch, 0.0)
    return result


def simulate_load(
    site: Site, clock: Clock, sky: Sky, streams: Streams, key: str,
    model: LoadModel = LoadModel(),
) -> FloatArray:
    """Electric load of the building in W."""
    staff = float(site.staff or 0)
    h = clock.local_hour
    people = staff * occupancy(clock, streams, key)
    work = clock.workday
    hvac_hours = work & (h >= 5.5) & (h < 19.5)
    base = model.base_kw + model.base_kw_per_staff * staff
    ventilation = np.where(hvac_hours, model.ventilation_kw_per_staff * staff, 0.0)
    equipment = model.equipment_kw_per_person * people
    daylight = np.clip(sky.ghi / 300.0, 0.0, 1.0)
    lighting = model.lighting_kw_per_person * people * (1.0 - 0.7 * daylight)
    canteen = np.where(
        work, model.canteen_kw_per_staff * staff * np.exp(-(((h - 12.2) / 1.1) ** 2)), 0.0
    )
    setback = np.where(hvac_hours, 1.0, 0.65)
    heating = (
        model.heating_kw_per_k_per_staff * staff
        * np.clip(model.heating_balance_c - sky.temp_air, 0.0, None) * setback
    )
    cooling = (
        model.cooling_kw_per_k_per_staff * staff
        * np.clip(sky.temp_air - model.cooling_balance_c, 0.0, None)
        * np.where(hvac_hours, 1.0, 0.3)
    )
    t = clock.times_s
    wobble = (
        1.0
        + 0.03 * streams.smooth(f"{key}:load:1h", t, _HOUR)
        + 0.012 * streams.white(f"{key}:load:min", t, 60)
    )
    kw = (base + ventilation + equipment + lighting + canteen + heating + cooling) * wobble
    result: FloatArray = np.clip(kw * 1000.0, 0.0, None)
    return result


def nominal_annual_wh(site: Site, model: LoadModel = LoadModel()) -> float:
    """A rough yearly consumption, only for a meter's plausible starting reading."""
    staff = float(site.staff or 0)
    return (model.base_kw + (model.base_kw_per_staff + 0.09) * staff) * 8_760.0 * 1000.0


def ndtr(x: FloatArray) -> FloatArray:
    """Normal CDF by its logistic approximation (error below 0.01; no scipy needed)."""
    result: FloatArray = 1.0 / (1.0 + np.exp(-1.702 * x))
    return result
