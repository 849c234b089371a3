"""The sky over a site: sun, clouds and weather, shared by everything the site simulates.

Solar position and clear-sky irradiance come from pvlib (Ineichen with the Linke turbidity
climatology pvlib ships). Clouds are one process per region, so every array of a site (and
every site in the same city) dims together:

- a cloud cover in 0..1 from a logistic of three parts: a seasonal mean (Freiburg is clouded
  more in winter, with fog and inversions), a weather regime correlated over days (spells
  of high pressure, fronts), and intra-day variation correlated over hours and minutes
  (broken cumulus), whose effect is largest in mixed regimes because the logistic is flat
  at both ends. The regime's knots are stratified per month: each month draws its days
  from the full climate distribution, in random order. Days and weeks vary as weather
  does, but a simulated year lands within about ±2 % of the climate's sunshine (real years
  scatter by about ±5 %), so a year's PV yield is a stable figure across seeds;
- GHI = clear-sky GHI × (1 − 0.75·cover^3.4) (Kasten and Czeplak, 1980), split into beam and
  diffuse with the Erbs correlation.

Temperature follows Freiburg's climate normals (1991-2020: about 2.4 °C in January, 20.6 °C
in July) with a daily cycle whose range widens under clear skies, and anomalies correlated
over days; clear winter spells run cold (inversions), clear summer spells warm. Wind, outdoor
humidity and rain come from the same regime, so a rainy day is also a dark, windier day.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulators.calendar import BoolArray, Clock, FloatArray, IntArray
from simulators.noise import Streams
from stadtpuls.catalogue.models import Site

_DAY = 86_400
_HOUR = 3_600

# Cloud model constants, tuned so a year in Freiburg gets about 1,140 kWh/m² of global
# horizontal irradiance (DWD and PVGIS give 1,100-1,250 for the last decades), with more
# cloud in winter than in summer, and the Stühlinger plant its published 558 MWh.
_CLOUD_MEAN = 0.85
_CLOUD_SEASON = 0.7
_CLOUD_GAIN = 1.8
_REGIME_WEIGHT = 1.1
_INTRADAY_WEIGHT = 0.9

# Freiburg climate normals (DWD station Freiburg, 1991-2020).
_TEMP_MEAN = 11.4
_TEMP_SEASON = 9.1
_COLDEST_DAY = 15.0  # day of year of the coldest mean day (mid-January)


@dataclass(frozen=True)
class Sky:
    """Weather on a time grid; irradiance in W/m², temperature in °C, wind in m/s."""

    times_s: FloatArray
    zenith: FloatArray
    apparent_zenith: FloatArray
    azimuth: FloatArray
    dni_extra: FloatArray
    airmass: FloatArray
    ghi_clear: FloatArray
    ghi: FloatArray
    dni: FloatArray
    dhi: FloatArray
    cloud: FloatArray
    """Cloud cover 0..1 (defined day and night)."""
    rain: FloatArray
    """Rain rate in mm/h."""
    temp_air: FloatArray
    wind_speed: FloatArray
    humidity: FloatArray
    """Outdoor relative humidity in %."""

    @property
    def daylight(self) -> FloatArray:
        """True where the sun is above the horizon."""
        up: FloatArray = (self.zenith < 90.0).astype(np.float64)
        return up


def region_key(site: Site) -> str:
    """Stream prefix shared by sites within about 25 km (0.25° cells): one city, one sky."""
    lat = round(site.location.lat * 4)
    lon = round(site.location.lon * 4)
    return f"sky:{lat}:{lon}"


def seasonal(day_of_year: FloatArray, peak_day: float) -> FloatArray:
    """cos of the annual cycle: 1 on `peak_day`, -1 half a year later."""
    result: FloatArray = np.cos(2.0 * np.pi * (day_of_year - peak_day) / 365.25)
    return result


def simulate_sky(site: Site, clock: Clock, streams: Streams) -> Sky:
    """Sun position, clouds, irradiance and weather for one site on the clock's grid."""
    import pvlib

    t = clock.times_s
    key = region_key(site)
    times = pd.DatetimeIndex(pd.to_datetime(t, unit="s", utc=True))
    loc = pvlib.location.Location(
        site.location.lat, site.location.lon, tz="UTC", altitude=site.location.altitude_m
    )
    with warnings.catch_warnings():
        # pvlib 0.16 still reads DatetimeIndex.dayofyear, which pandas 3 deprecates; the
        # warning is pvlib's to fix and would otherwise flood every test run.
        warnings.simplefilter("ignore", DeprecationWarning)
        solpos = loc.get_solarposition(times)
        clear = loc.get_clearsky(times, model="ineichen", solar_position=solpos)
        dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(times), dtype=np.float64)
    zenith = solpos["zenith"].to_numpy(np.float64)
    apparent_zenith = solpos["apparent_zenith"].to_numpy(np.float64)
    azimuth = solpos["azimuth"].to_numpy(np.float64)
    airmass = np.nan_to_num(
        np.asarray(pvlib.atmosphere.get_relative_airmass(apparent_zenith), dtype=np.float64),
        nan=40.0,
    )
    ghi_clear = np.clip(clear["ghi"].to_numpy(np.float64), 0.0, None)
    dni_clear = np.clip(clear["dni"].to_numpy(np.float64), 0.0, None)

    # Seasonal mean cover peaks in mid-January (inversion fog on the Upper Rhine plain).
    winter = seasonal(clock.day_of_year, _COLDEST_DAY)
    regime = (
        0.6 * streams.smooth(f"{key}:regime:2d", t, 2 * _DAY, stratify=15)
        + 0.8 * streams.smooth(f"{key}:regime:1d", t, _DAY, stratify=30)
    )
    intraday = (
        0.6 * streams.smooth(f"{key}:cloud:3h", t, 3 * _HOUR)
        + 0.55 * streams.smooth(f"{key}:cloud:40m", t, 2_400)
        + 0.45 * streams.smooth(f"{key}:cloud:8m", t, 480)
    )
    slow_cover = _logistic(_CLOUD_GAIN * (_CLOUD_MEAN + _CLOUD_SEASON * winter
                                          + _REGIME_WEIGHT * regime))
    cover = _logistic(
        _CLOUD_GAIN
        * (_CLOUD_MEAN + _CLOUD_SEASON * winter + _REGIME_WEIGHT * regime
           + _INTRADAY_WEIGHT * intraday)
    )
    kc = 1.0 - 0.75 * cover**3.4
    up = zenith < 90.0
    ghi = np.where(up, ghi_clear * kc, 0.0)
    dni, dhi = _split(ghi, zenith, clock.day_of_year, dni_clear, up)

    rain_latent = 0.7 * regime + 0.7 * streams.smooth(f"{key}:rain:2h", t, 2 * _HOUR)
    rain = np.clip((rain_latent - 1.35) * 2.0, 0.0, None)

    temp_air, temp_daily = _temperature(clock, t, key, streams, winter, regime, slow_cover)
    wind = _wind(clock, t, key, streams, regime)
    humidity = _humidity(temp_air, temp_daily, slow_cover, rain, t, key, streams)
    return Sky(
        times_s=t.astype(np.float64),
        zenith=zenith,
        apparent_zenith=apparent_zenith,
        azimuth=azimuth,
        dni_extra=dni_extra,
        airmass=airmass,
        ghi_clear=np.where(up, ghi_clear, 0.0),
        ghi=ghi,
        dni=dni,
        dhi=dhi,
        cloud=cover,
        rain=rain,
        temp_air=temp_air,
        wind_speed=wind,
        humidity=humidity,
    )


def _logistic(x: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return result


def _split(
    ghi: FloatArray, zenith: FloatArray, day_of_year: FloatArray, dni_clear: FloatArray,
    up: BoolArray,
) -> tuple[FloatArray, FloatArray]:
    """Beam and diffuse from GHI (Erbs); the beam never exceeds the clear-sky beam."""
    import pvlib

    parts = pvlib.irradiance.erbs(ghi, zenith, day_of_year + 1.0)
    dni = np.minimum(np.nan_to_num(np.asarray(parts["dni"], dtype=np.float64)), dni_clear)
    cos_z = np.clip(np.cos(np.radians(zenith)), 0.0, None)
    dni = np.where(up, dni, 0.0)
    dhi = np.clip(ghi - dni * cos_z, 0.0, None)
    return dni, dhi


def _temperature(
    clock: Clock, t: IntArray, key: str, streams: Streams, winter: FloatArray,
    regime: FloatArray, slow_cover: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Air temperature and its daily mean (the same without the daily cycle)."""
    summer = -winter
    season = _TEMP_MEAN - _TEMP_SEASON * winter
    anomaly = (
        3.0 * streams.smooth(f"{key}:temp:5d", t, 5 * _DAY)
        + 1.2 * streams.smooth(f"{key}:temp:1d", t, _DAY)
        + 0.25 * streams.smooth(f"{key}:temp:1h", t, _HOUR)
        # Cloud regime: positive = cloudy. Clear winter spells are cold, clear summer ones hot.
        + 1.6 * regime * (winter - summer) / 2.0
    )
    daily_range = (5.0 + 3.5 * (summer + 1.0)) * (1.25 - 0.85 * slow_cover)
    solar_hour = clock.solar_hour
    cycle = 0.5 * daily_range * np.cos(2.0 * np.pi * (solar_hour - 15.0) / 24.0)
    daily: FloatArray = season + anomaly
    return daily + cycle, daily


def _wind(
    clock: Clock, t: IntArray, key: str, streams: Streams, regime: FloatArray
) -> FloatArray:
    # Freiburg is sheltered (mean about 2.5 m/s on a roof mast); fronts bring wind.
    level = np.exp(
        np.log(2.2)
        + 0.4 * streams.smooth(f"{key}:wind:12h", t, 12 * _HOUR)
        + 0.2 * streams.smooth(f"{key}:wind:1h", t, _HOUR)
        + 0.22 * regime
    )
    afternoon = 1.0 + 0.25 * np.cos(2.0 * np.pi * (clock.solar_hour - 14.0) / 24.0)
    gust = 1.0 + 0.12 * streams.white(f"{key}:wind:gust", t, 60)
    result: FloatArray = np.clip(level * afternoon * gust, 0.0, None)
    return result


def _humidity(
    temp_air: FloatArray, temp_daily: FloatArray, slow_cover: FloatArray, rain: FloatArray,
    t: IntArray, key: str, streams: Streams,
) -> FloatArray:
    """Relative humidity from a dew point that follows the day's mean temperature.

    Air keeps its water through the day, so the dew point moves slowly while the temperature
    swings: humidity is high at dawn and low in the afternoon, near 100 % in rain and fog.
    """
    depression = (
        2.0 + 7.0 * (1.0 - slow_cover)
        + 1.2 * streams.smooth(f"{key}:dewpoint:12h", t, 12 * _HOUR)
        - 4.0 * np.clip(rain, 0.0, 1.0)
    )
    dew_point = np.minimum(temp_daily - np.clip(depression, 0.0, None), temp_air)
    result: FloatArray = np.clip(
        100.0 * saturation_kpa(dew_point) / saturation_kpa(temp_air), 15.0, 100.0
    )
    return result


def saturation_kpa(temp_c: FloatArray) -> FloatArray:
    """Saturation vapour pressure over water in kPa (Magnus formula, WMO coefficients)."""
    result: FloatArray = 0.6112 * np.exp(17.62 * temp_c / (243.12 + temp_c))
    return result
