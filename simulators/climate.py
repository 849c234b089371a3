"""Indoor climate of one room: CO2 from people and ventilation, temperature, humidity.

Rooms are described only by their name in the catalogue, so each room draws its own size,
number of desks, meeting habits and ventilation rate from its named random stream: a new
room in the YAML needs no code. People in a room follow the building's occupancy, plus
meetings (blocks of an hour or two on working days).

- CO2: a well-mixed room, dC/dt = S·n/V − λ·(C − C_out), with S = 0.0187 m³/h of CO2 per
  seated adult and λ the air change rate (mechanical ventilation in office hours, raised
  with the crowd by the demand control; infiltration only at night). Each step uses the
  exact solution for constant inputs, so any step length is stable.
- Temperature: first-order response towards a free-floating temperature (outdoor
  temperature, sun, people) held inside the heating and cooling set points while the
  plant runs, with a night setback.
- Humidity: the outdoor water vapour plus what people exhale (about 50 g/h each, tied to
  the CO2 excess because both leave with the same air), at the room's temperature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.calendar import Clock, FloatArray
from simulators.noise import Streams
from simulators.sky import Sky, saturation_kpa

_CO2_PER_PERSON_M3H = 0.0187
_CO2_OUTDOOR_PPM = 425.0
# Water vapour pressure (kPa) added per ppm of CO2 excess: 50 g/h of water and 18.7 l/h of
# CO2 per person, diluted by the same air flow, at room temperature.
_VAPOUR_KPA_PER_PPM = 0.000365
_INDOOR_VAPOUR_KPA = 0.25


@dataclass(frozen=True)
class RoomClimate:
    temperature: FloatArray
    humidity: FloatArray
    co2: FloatArray
    people: FloatArray


@dataclass(frozen=True)
class RoomShape:
    volume_m3: float
    desks: float
    meeting_rate: float
    meeting_size: float
    air_changes_per_h: float
    offset_c: float

    @classmethod
    def draw(cls, name: str, streams: Streams) -> RoomShape:
        u = streams.uniform(f"room:{name}:shape", 0, 6)
        volume = 250.0 + 1_250.0 * u[0]
        return cls(
            volume_m3=volume,
            desks=volume / (22.0 + 18.0 * u[1]) * (0.3 + 0.7 * u[2]),
            meeting_rate=0.1 + 0.35 * u[2],
            meeting_size=min(8.0 + 52.0 * u[3], volume / 7.0),
            air_changes_per_h=1.2 + 1.3 * u[4],
            offset_c=-0.8 + 1.6 * u[5],
        )


def simulate_room(
    name: str, clock: Clock, sky: Sky, occupancy: FloatArray, streams: Streams, step_s: int
) -> RoomClimate:
    """Climate of room `name` on the clock's grid (the first hours settle from equilibrium)."""
    shape = RoomShape.draw(name, streams)
    t = clock.times_s
    h = clock.local_hour
    # Meetings: each working hour between 8 and 18 holds one with probability meeting_rate,
    # filling the room to 40-100 % of its meeting size.
    hour_draw = streams.white_uniform(f"room:{name}:meeting", t, 3_600)
    fill = streams.white_uniform(f"room:{name}:meeting:fill", t, 3_600)
    meeting = clock.workday & (h >= 8.0) & (h < 18.0) & (hour_draw < shape.meeting_rate)
    people = shape.desks * occupancy / 0.62 + np.where(
        meeting, shape.meeting_size * (0.4 + 0.6 * fill), 0.0
    )

    plant_on = clock.workday & (h >= 6.0) & (h < 19.0)
    crowd = people / max(shape.volume_m3 / 10.0, 1.0)
    ach = np.where(plant_on, shape.air_changes_per_h * (1.0 + 0.8 * np.clip(crowd, 0, 1)), 0.25)
    source = _CO2_PER_PERSON_M3H * people / shape.volume_m3 * 1e6  # ppm per hour
    outdoor = _CO2_OUTDOOR_PPM + 15.0 * np.cos(2.0 * np.pi * (h - 5.0) / 24.0)
    air_keep = np.exp(-ach * step_s / 3600.0)
    co2 = _first_order(outdoor + source / ach, air_keep)

    heating_season = np.clip((16.0 - sky.temp_air) / 6.0, 0.0, 1.0)
    free = (
        21.0
        + 0.3 * (sky.temp_air - 12.0)
        + 1.5 * np.clip(sky.ghi / 800.0, 0.0, 1.0)
        + 6.0 * people / shape.volume_m3
        + shape.offset_c
    )
    low = np.where(plant_on, 21.0, 21.0 - 3.0 * heating_season)
    high = np.where(plant_on, 24.5, 27.0)
    target = np.clip(free, low, high)
    tau_h = np.where(plant_on, 2.5, 8.0)
    temperature = _first_order(target, np.exp(-step_s / 3600.0 / tau_h))

    outdoor_vapour = sky.humidity / 100.0 * saturation_kpa(sky.temp_air)
    # Plants, kitchens, cleaning and the heat-recovery wheel keep some moisture indoors, so
    # winter offices sit near 20-30 % instead of the 10 % that outdoor air alone would give.
    vapour = (outdoor_vapour + _INDOOR_VAPOUR_KPA * heating_season
              + _VAPOUR_KPA_PER_PPM * np.clip(co2 - outdoor, 0.0, None))
    # The air handling unit dries the supply air in summer: at most about 60 % while it runs.
    saturation = saturation_kpa(temperature)
    vapour = np.where(plant_on, np.minimum(vapour, 0.6 * saturation), vapour)
    # The room's air exchanges its moisture at the same rate as its CO2.
    vapour = _first_order(vapour, air_keep)
    humidity = np.clip(100.0 * vapour / saturation, 15.0, 80.0)

    noise = streams.white(f"room:{name}:sensor", t, 60)
    return RoomClimate(
        temperature=temperature + 0.05 * noise,
        humidity=np.clip(humidity + 0.4 * noise, 0.0, 100.0),
        co2=np.clip(co2 + 8.0 * noise, 380.0, None),
        people=people,
    )


def _first_order(target: FloatArray, keep: FloatArray) -> FloatArray:
    """x[k] = target[k-1] + (x[k-1] - target[k-1]) * keep[k-1], starting at target[0].

    A plain loop: the recurrence has no closed vectorised form that stays numerically
    stable over a year, and a year at 15-minute steps is 35,000 iterations.
    """
    goal = target.tolist()
    factor = keep.tolist() if keep.ndim else [float(keep)] * len(goal)
    out = [0.0] * len(goal)
    x = goal[0] if goal else 0.0
    for k, g in enumerate(goal):
        out[k] = x
        x = g + (x - g) * factor[k]
    return np.asarray(out, dtype=np.float64)
