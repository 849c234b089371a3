"""Expected vs actual PV output: a pvlib model driven by the site's own weather station.

Per 5-minute window of the last 24 hours:

1. solar position for the site (pvlib, NREL SPA);
2. the measured global horizontal irradiance split into beam and diffuse with the Erbs
   correlation, then transposed to each array's tilt and azimuth (Hay-Davies);
3. cell temperature from the measured air temperature and wind (Faiman);
4. PVWatts DC with the array's kWp, temperature coefficient and system losses;
5. arrays sharing an inverter are summed, put through the PVWatts inverter model (its
   efficiency, clipped at its AC rating) and shared back in proportion to their DC.

The ratio actual/expected is taken over windows where both are known and the model expects
more than 2 % of the array's peak, so night, dawn and data gaps do not count.

The model knows nothing of shading by neighbouring façade fins or buildings, so a healthy
façade array reaches 72-94 % of the model depending on orientation and season (roof arrays
about 93 %). An absolute threshold would flag healthy north-east façades every winter. So
each array is compared with its own usual ratio: the median of its daily ratios over the 14
days before (the "baseline"). The performance index is ratio / baseline, and an array whose
index falls below `DashboardSettings.underperformance_ratio` (80 %) is flagged. Without at
least three days of history the raw ratio is used instead.

pvlib is imported inside the function: it takes about a second to import.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.cache import bucket_end
from dashboard.data.source import DataSource
from stadtpuls.catalogue import Role, Site
from stadtpuls.reading import SeriesKey
from stadtpuls.store.protocol import Aggregate
from stadtpuls.timebase import NS_PER_S

WINDOW_S = 300
SPAN_S = 86_400
_BUCKET_S = 60.0
_MIN_EXPECTED_FRACTION = 0.02
BASELINE_DAYS = 14
_MIN_BASELINE_DAYS = 3


@dataclass(frozen=True)
class ArrayPerformance:
    array_id: str
    actual_wh: float
    expected_wh: float
    ratio: float | None
    """Actual / expected over the last 24 h."""
    baseline: float | None
    """The array's usual ratio (median of the 14 days before), None without history."""
    flagged: bool

    @property
    def index(self) -> float | None:
        """Ratio relative to the array's usual ratio (1.0 = as usual)."""
        if self.ratio is None:
            return None
        return self.ratio / self.baseline if self.baseline else self.ratio


@dataclass(frozen=True)
class Performance:
    frame: pd.DataFrame
    """Index: window start (UTC); columns `actual:<array>`, `expected:<array>` and (if the
    site measures it) `consumption`, all in W."""
    arrays: list[ArrayPerformance]
    has_weather: bool


def expected_ac_w(site: Site, index: pd.DatetimeIndex, ghi: np.ndarray, temp_air: np.ndarray,
                  wind: np.ndarray) -> dict[str, np.ndarray]:
    """Modelled AC power per array id on `index` (UTC) from measured weather."""
    import pvlib

    loc = site.location
    solpos = pvlib.solarposition.get_solarposition(index, loc.lat, loc.lon, loc.altitude_m)
    zenith = solpos["zenith"].to_numpy()
    ghi = np.clip(np.nan_to_num(ghi), 0.0, None)
    split = pvlib.irradiance.erbs(ghi, zenith, index.day_of_year.to_numpy())
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(index), dtype=np.float64)
    dc: dict[str, np.ndarray] = {}
    for array in site.pv_arrays:
        poa = pvlib.irradiance.get_total_irradiance(
            array.tilt_deg, array.azimuth_deg, zenith, solpos["azimuth"].to_numpy(),
            np.asarray(split["dni"]), ghi, np.asarray(split["dhi"]),
            dni_extra=dni_extra, model="haydavies",
        )
        poa_global = np.nan_to_num(np.asarray(poa["poa_global"], dtype=np.float64))
        cell = pvlib.temperature.faiman(poa_global, temp_air, wind)
        pdc = pvlib.pvsystem.pvwatts_dc(poa_global, cell, array.peak_power_w,
                                        array.temp_coefficient)
        dc[array.id] = np.clip(np.asarray(pdc, dtype=np.float64), 0.0, None) * (
            1.0 - array.system_losses)
    out: dict[str, np.ndarray] = {}
    inverters = {inv.id: inv for inv in site.inverters}
    for inverter_id in {a.inverter for a in site.pv_arrays}:
        inv = inverters[inverter_id]
        ids = [a.id for a in site.pv_arrays if a.inverter == inverter_id]
        total = np.sum([dc[i] for i in ids], axis=0)
        ac = np.clip(np.asarray(pvlib.inverter.pvwatts(
            total, pdc0=inv.ac_rating_w / inv.efficiency, eta_inv_nom=inv.efficiency),
            dtype=np.float64), 0.0, None)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = {i: np.where(total > 0, dc[i] / total, 0.0) for i in ids}
        for i in ids:
            out[i] = ac * share[i]
    return out


def performance(source: DataSource, site_id: str) -> Performance:
    """Actual vs expected per array over the last 24 h (cached for a minute)."""
    end = bucket_end(source.now_ns(), _BUCKET_S)
    return source.reader.memo(("performance", site_id, end),
                              lambda: _performance(source, site_id, end), _BUCKET_S)


def _performance(source: DataSource, site_id: str, end: int) -> Performance:
    site = source.catalogue.sites[site_id]
    window = WINDOW_S * NS_PER_S
    aligned_end = end - end % window  # whole windows only: the filling one is no dip
    frame, has_weather = model_frame(source, site_id, aligned_end - SPAN_S * NS_PER_S,
                                     aligned_end, _BUCKET_S)
    # The baseline changes once a day: key it by the day so it is computed once.
    day_end = aligned_end - aligned_end % (86_400 * NS_PER_S) - SPAN_S * NS_PER_S
    baseline = source.reader.memo(("baseline", site_id, day_end),
                                  lambda: _baselines(source, site_id, day_end), 6 * 3_600.0)
    threshold = source.settings.underperformance_ratio
    arrays: list[ArrayPerformance] = []
    for array in site.pv_arrays:
        actual_wh, expected_wh = paired_energy(frame, array.id, array.peak_power_w)
        ratio = actual_wh / expected_wh if expected_wh > 0 else None
        base = baseline.get(array.id)
        index = None if ratio is None else ratio / base if base else ratio
        arrays.append(ArrayPerformance(array.id, actual_wh, expected_wh, ratio, base,
                                       index is not None and index < threshold))
    return Performance(frame, arrays, has_weather)


def paired_energy(frame: pd.DataFrame, array_id: str, peak_w: float) -> tuple[float, float]:
    """(actual Wh, expected Wh) over the windows where both are known and the model expects
    more than 2 % of peak: the basis of every actual/expected ratio (page and reports)."""
    actual = frame[f"actual:{array_id}"].to_numpy(dtype=np.float64)
    exp = frame[f"expected:{array_id}"].to_numpy(dtype=np.float64)
    use = np.isfinite(actual) & np.isfinite(exp) & (exp > _MIN_EXPECTED_FRACTION * peak_w)
    hours = WINDOW_S / 3600.0
    return float(actual[use].sum()) * hours, float(exp[use].sum()) * hours


def _baselines(source: DataSource, site_id: str, end: int) -> dict[str, float]:
    site = source.catalogue.sites[site_id]
    frame, has_weather = model_frame(source, site_id, end - BASELINE_DAYS * 86_400 * NS_PER_S,
                                     end, 6 * 3_600.0)
    if not has_weather:
        return {}
    out: dict[str, float] = {}
    days = pd.DatetimeIndex(frame.index).floor("D")
    for array in site.pv_arrays:
        ratios = []
        for _, day in frame.groupby(days):
            actual_wh, expected_wh = paired_energy(day, array.id, array.peak_power_w)
            # A day with too little light says little about the array.
            if expected_wh > 0.2 * array.peak_power_w:
                ratios.append(actual_wh / expected_wh)
        if len(ratios) >= _MIN_BASELINE_DAYS:
            out[array.id] = float(np.median(ratios))
    return out


def model_frame(source: DataSource, site_id: str, start: int, end: int, ttl_s: float
                 ) -> tuple[pd.DataFrame, bool]:
    """Measured and modelled power per array on 5-minute windows of [start, end)."""
    site = source.catalogue.sites[site_id]
    window = WINDOW_S * NS_PER_S
    start -= start % window
    weather = {role: next((s for s in site.sensors if s.role is role), None)
               for role in (Role.IRRADIANCE, Role.AIR_TEMPERATURE, Role.WIND_SPEED)}
    power = {s.array: s for s in site.sensors if s.role is Role.PV_POWER and s.array}
    consumption = [s for s in site.sensors if s.role is Role.CONSUMPTION_POWER]
    keys = [SeriesKey(site_id, s.id, s.quantity)
            for s in [*weather.values(), *power.values(), *consumption] if s is not None]
    result = source.reader.aggregate(keys, start, end, window, (Aggregate.MEAN,), ttl_s=ttl_s)
    grid = np.arange(start, end, window, dtype=np.int64)
    index = pd.DatetimeIndex(pd.to_datetime(grid, unit="ns", utc=True))

    def column(sensor_id: str | None) -> np.ndarray:
        values = np.full(len(grid), np.nan)
        key = next((k for k in result if k.sensor == sensor_id), None)
        if key is None or not result[key].times:
            return values
        ws = result[key]
        pos = (np.asarray(ws.times, dtype=np.int64) - start) // window
        ok = (pos >= 0) & (pos < len(grid))
        values[pos[ok]] = np.asarray(ws.values[Aggregate.MEAN], dtype=np.float64)[ok]
        return values

    def sensor_id(role: Role) -> str | None:
        sensor = weather[role]
        return sensor.id if sensor else None

    ghi = column(sensor_id(Role.IRRADIANCE))
    has_weather = bool(np.isfinite(ghi).any())
    temp = _filled(column(sensor_id(Role.AIR_TEMPERATURE)), 15.0)
    wind = _filled(column(sensor_id(Role.WIND_SPEED)), 1.0)
    expected = (expected_ac_w(site, index, ghi, temp, wind) if has_weather and site.pv_arrays
                else {})
    frame = pd.DataFrame(index=index)
    for array in site.pv_arrays:
        sensor = power.get(array.id)
        exp = expected.get(array.id, np.full(len(grid), np.nan))
        frame[f"actual:{array.id}"] = column(sensor.id if sensor else None)
        frame[f"expected:{array.id}"] = np.where(np.isfinite(ghi), exp, np.nan)
    if consumption:
        # Several consumption meters (sub-distributions) add up; a gap in one is a gap.
        frame["consumption"] = np.sum([column(s.id) for s in consumption], axis=0)
    return frame, has_weather


def _filled(values: np.ndarray, default: float) -> np.ndarray:
    """Gaps in temperature or wind filled from neighbours (they change slowly)."""
    series = pd.Series(values)
    if series.notna().any():
        series = series.interpolate(limit_direction="both")
    return series.fillna(default).to_numpy(dtype=np.float64)
