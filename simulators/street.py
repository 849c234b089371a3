"""Street sensors: bike counts, air quality and noise, driven by traffic, calendar and weather.

- Bikes: commuter peaks at about 07:45 and 17:00 on working days, a broad afternoon hump at
  weekends and on holidays, fewer in winter, in the rain, in frost and in the school summer
  holidays. The scale is Freiburg's Wiwilíbrücke, among Germany's busiest counters (about
  11,000 bikes on a summer working day).
- Traffic (the common driver of NO2, particles and noise): rush hours on working days,
  a late-morning hump at weekends.
- NO2 and particles: an urban background (higher in winter: heating, inversions) plus the
  traffic share, both diluted by wind; particles come in multi-day episodes and rain washes
  them out. PM10 is PM2.5 plus coarse dust from the road. Scaled to the annual means of a
  busy street station (NO2 about 30 µg/m³, PM2.5 about 10, PM10 about 17).
- Noise: LAeq per interval of a city-centre square: an energy sum of background, street life
  and tram pass-bys.
"""

from __future__ import annotations

import numpy as np

from simulators.calendar import Clock, FloatArray
from simulators.noise import Streams
from simulators.sky import Sky, seasonal

_HOUR = 3_600
_DAY = 86_400


def _bump(h: FloatArray, centre: float, width: float) -> FloatArray:
    result: FloatArray = np.exp(-0.5 * ((h - centre) / width) ** 2)
    return result


def traffic(clock: Clock) -> FloatArray:
    """Motor traffic relative to a working day's rush hour (about 1.0 at its peak)."""
    h = clock.local_hour
    working = (
        0.05
        + 0.95 * _bump(h, 7.8, 0.8)
        + 0.9 * _bump(h, 17.2, 1.2)
        + 0.55 * _bump(h, 12.5, 3.0)
    )
    saturday = clock.weekday == 5
    weekend = 0.05 + np.where(saturday, 0.7, 0.45) * _bump(h, 13.0, 3.5)
    result: FloatArray = np.where(clock.workday, working, weekend)
    return result


def bike_rate(clock: Clock, sky: Sky, streams: Streams, key: str) -> FloatArray:
    """Expected bikes per hour passing the counter."""
    h = clock.local_hour
    commute = (
        0.02
        + 1.0 * _bump(h, 7.75, 0.55)
        + 0.85 * _bump(h, 17.0, 0.9)
        + 0.35 * _bump(h, 12.8, 2.2)
        + 0.12 * _bump(h, 21.0, 1.5)
    )
    leisure = 0.02 + np.where(clock.weekday == 5, 0.55, 0.45) * _bump(h, 14.5, 3.2)
    profile = np.where(clock.workday, commute, leisure)
    summer = -seasonal(clock.day_of_year, 15.0)
    season = 0.72 + 0.28 * summer
    holidays = 1.0 - 0.2 * np.exp(-(((clock.day_of_year - 222.0) / 18.0) ** 2))
    wet = 1.0 - 0.6 * np.clip(sky.rain / 2.0, 0.0, 1.0)
    cold = np.clip(1.0 - 0.03 * (4.0 - sky.temp_air), 0.55, 1.0)
    hot = np.clip(1.0 - 0.04 * (sky.temp_air - 30.0), 0.8, 1.0)
    scale = 0.9 + 0.2 * streams.uniform(f"{key}:scale", 0, 1)[0]
    # 1,900 bikes/h at the morning peak of a summer working day gives about 13,000 a day.
    result: FloatArray = 1_900.0 * scale * profile * season * holidays * wet * cold * hot
    return result


def counts(rate_per_h: FloatArray, period_s: int, noise: FloatArray) -> FloatArray:
    """Counts per period from an hourly rate; Poisson spread by its normal approximation."""
    mean = rate_per_h * period_s / 3600.0
    result: FloatArray = np.clip(np.round(mean + np.sqrt(mean) * noise), 0.0, None)
    return result


def _dilution(sky: Sky, clock: Clock) -> FloatArray:
    """How much a local emission concentrates: calm air and night inversions hold it."""
    night = 1.0 + 0.35 * _bump(clock.local_hour, 3.0, 4.0)
    result: FloatArray = 2.4 / (sky.wind_speed + 0.8) * night
    return result


def no2(clock: Clock, sky: Sky, streams: Streams, key: str) -> FloatArray:
    winter = seasonal(clock.day_of_year, 15.0)
    background = 13.0 + 5.0 * winter
    local = 38.0 * traffic(clock) * _dilution(sky, clock)
    wobble = np.exp(0.12 * streams.smooth(f"{key}:no2:2h", clock.times_s, 2 * _HOUR))
    result: FloatArray = np.clip((background + local) * wobble, 1.0, None)
    return result


def pm2_5(clock: Clock, sky: Sky, streams: Streams, key: str) -> FloatArray:
    winter = seasonal(clock.day_of_year, 15.0)
    episode = np.exp(0.45 * streams.smooth(f"{key}:pm:2d", clock.times_s, 2 * _DAY))
    background = (8.5 + 4.0 * winter) * episode
    local = 2.0 * traffic(clock) * _dilution(sky, clock)
    washout = 1.0 - 0.4 * np.clip(sky.rain, 0.0, 1.0)
    wobble = np.exp(0.1 * streams.smooth(f"{key}:pm:1h", clock.times_s, _HOUR))
    result: FloatArray = np.clip((background + local) * washout * wobble, 0.5, None)
    return result


def pm10(clock: Clock, sky: Sky, streams: Streams, key: str, fine: FloatArray) -> FloatArray:
    dry = 1.0 - 0.7 * np.clip(sky.rain, 0.0, 1.0)
    coarse = (3.5 + 6.0 * traffic(clock)) * dry
    wobble = np.exp(0.1 * streams.smooth(f"{key}:pm10:1h", clock.times_s, _HOUR))
    result: FloatArray = fine * 1.25 + coarse * wobble
    return result


def noise_level(clock: Clock, sky: Sky, streams: Streams, key: str, step_s: int) -> FloatArray:
    """LAeq in dB(A) at a city-centre square with trams."""
    h = clock.local_hour
    open_hours = np.where(clock.weekday == 6, 0.3, 1.0) * np.where(clock.holiday, 0.4, 1.0)
    life = 0.03 + open_hours * _bump(h, 14.5, 3.5) + 0.35 * _bump(h, 21.5, 1.5)
    trams_run = (h >= 5.3) | (h < 0.6)
    # Trams every few minutes in the day: the chance of one passing in a step grows with it.
    tram_chance = np.where(trams_run, np.where((h > 6.5) & (h < 20.0), 0.45, 0.2), 0.0)
    tram_chance = 1.0 - (1.0 - tram_chance) ** max(step_s / 60.0, 1.0)
    tram = streams.white_uniform(f"{key}:tram", clock.times_s, 60) < tram_chance
    energy = (
        10.0 ** (44.0 / 10.0)
        + life * 10.0 ** (63.0 / 10.0)
        + traffic(clock) * 10.0 ** (57.0 / 10.0)
        + np.where(tram, 10.0 ** (67.0 / 10.0), 0.0)
        + np.clip(sky.rain, 0.0, 2.0) * 10.0 ** (52.0 / 10.0)
    )
    jitter = 1.2 * streams.white(f"{key}:noise:jitter", clock.times_s, 60)
    result: FloatArray = 10.0 * np.log10(energy) + jitter
    return result
